#!/usr/bin/env python3
"""Usage: scripts/run-docs.py [--keep] [FILE.md ...]

Runs the shell blocks of README.md and docs/*.md (or of the FILEs given) as they are written,
one `bash -e -o pipefail` process per block, in order, and fails when one fails. The rules a
block follows (its first line, the `# →` lines) are stated once, in docs/TESTING.md, "The docs run
as written": this script is their only reader.

Where the blocks run: a scratch copy of the checkout's files (tracked and untracked, not ignored)
in .scratch/docs-run/, so nothing a block writes (.scratch/local-aws.env, .aws-sam/, ...) lands
in the checkout or meets a run of the user's own; its target/ and .venv/ are links to the
checkout's, so the builds and the venvs of the test command are reused, not made again. `--keep`
leaves the copy and the blocks' logs there.

When the kernel allows it (unshare), the run has a network and a PID namespace of its own: the
blocks bind the ports they name (3000, cargo lambda's 9000) without meeting anything else on the
machine, and no process a block starts can outlive the run. Without, it runs on the machine's
network and says so.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / ".scratch" / "docs-run"
SHELLS = {"sh", "bash", "shell"}
SKIP = "# not run by the docs test:"
EXPECT = "# → "
READY = "Ctrl-C"
# Generous: a block's first build on a cold target dir compiles for minutes on two cores.
BLOCK_TIMEOUT_S = int(os.environ.get("DOCS_BLOCK_TIMEOUT", "1200"))
STOP_TIMEOUT_S = 30
INSIDE = "DOCS_RUN_INSIDE_NAMESPACE"


@dataclass
class Block:
    file: str
    line: int  # of the opening fence, 1-based
    lang: str
    text: list = field(default_factory=list)

    @property
    def where(self):
        return f"{self.file}:{self.line}"

    @property
    def first(self):
        return self.text[0].strip() if self.text else ""

    @property
    def role(self):
        if self.first.startswith(SKIP):
            return "skip"
        if re.match(r"# terminal 1\b", self.first):
            return "terminal 1"
        if re.match(r"# terminal 2\b", self.first):
            return "terminal 2"
        return "run"

    @property
    def expected(self):
        return [t.strip()[len(EXPECT.strip()):].strip() for t in self.text if t.strip().startswith(EXPECT.strip())]


class DocsError(Exception):
    pass


def blocks_of(path: Path) -> list:
    """Every fenced block of a markdown file; a fence without a language is an error."""
    rel = str(path.relative_to(ROOT))
    out, current, fence = [], None, None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r"^(`{3,})(.*)$", line)
        if current is None:
            if m:
                fence, info = m.group(1), m.group(2).strip()
                if not info:
                    raise DocsError(
                        f"{rel}:{n}: a fenced block without a language: ```sh for a shell block"
                        " (the docs test runs it), ```text or another language otherwise"
                    )
                current = Block(rel, n, info.split()[0])
        elif m and m.group(1) == fence and not m.group(2).strip():
            out.append(current)
            current = None
        else:
            current.text.append(line)
    if current is not None:
        raise DocsError(f"{current.where}: the block is never closed")
    return out


def shell_blocks(files: list) -> list:
    blocks = [b for f in files for b in blocks_of(f) if b.lang in SHELLS]
    for i, b in enumerate(blocks):
        if b.role == "skip" and not b.first[len(SKIP):].strip():
            raise DocsError(f"{b.where}: say why after '{SKIP}'")
        if b.role == "terminal 2" and (i == 0 or blocks[i - 1].role != "terminal 1"):
            raise DocsError(f"{b.where}: a '# terminal 2' block must follow a '# terminal 1' block")
        for t in b.text[1:]:
            if t.strip().startswith(SKIP):
                raise DocsError(f"{b.where}: '{SKIP}' must be the block's first line to be seen")
    return blocks


def marker_lines(files: list) -> int:
    """The skip markers in the files' text, counted apart from the parser: what it must have skipped."""
    return sum(line.strip().startswith(SKIP) for f in files for line in f.read_text().splitlines())


def make_copy():
    if COPY.exists():
        shutil.rmtree(COPY)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not name.startswith(".scratch/"):
            dst = COPY / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)  # keeps mtimes: cargo finds its builds fresh
    for shared in ("target", ".venv"):
        (ROOT / shared).mkdir(exist_ok=True)
        (COPY / shared).symlink_to(ROOT / shared)
    (COPY / ".scratch").mkdir()


class Process:
    """One block as its own bash process in its own process group, its output in a log file."""

    def __init__(self, block: Block, n: int):
        self.block = block
        self.log = COPY / ".scratch" / f"block-{n:02d}.log"
        script = COPY / ".scratch" / f"block-{n:02d}.sh"
        script.write_text("\n".join(block.text) + "\n")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
                cwd=COPY, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started = time.monotonic()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def failure(self, why: str) -> DocsError:
        tail = "\n".join(self.output().splitlines()[-60:])
        text = "\n".join(f"    {t}" for t in self.block.text)
        return DocsError(f"{self.block.where}: {why}\n  the block:\n{text}\n  its output (last lines):\n{tail}")

    def wait(self, timeout: float):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal_group(self, sig) -> bool:
        try:
            os.killpg(self.proc.pid, sig)
            return True
        except ProcessLookupError:
            return False

    def group_alive(self) -> bool:
        """A live member left in its group (a zombie is dead: it only waits for its parent)."""
        self.proc.poll()
        return any(pgrp == self.proc.pid and state != "Z" for _, state, pgrp, _ in processes())

    def stop(self, first=signal.SIGINT):
        """Ctrl-C as a terminal sends it (the whole group), then SIGTERM, then SIGKILL."""
        for sig in (first, signal.SIGTERM, signal.SIGKILL):
            if not self.signal_group(sig):
                break
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while time.monotonic() < deadline and self.group_alive():
                self.wait(0.1)
            if not self.group_alive():
                break
            print(f"   {self.block.where}: still running {STOP_TIMEOUT_S} s after {sig.name}", flush=True)
        self.wait(STOP_TIMEOUT_S)

    def check_expected(self):
        lines, at = self.output().splitlines(), 0
        for want in self.block.expected:
            pattern = re.compile(".*".join(re.escape(part) for part in want.split("…")))
            found = next((i for i in range(at, len(lines)) if pattern.fullmatch(lines[i].strip())), None)
            if found is None:
                raise self.failure(f"no line of its output, after the ones matched before, reads `{want}`")
            at = found + 1


def run_to_end(p: Process):
    status = p.wait(BLOCK_TIMEOUT_S)
    if status is None:
        p.stop(signal.SIGTERM)
        raise p.failure(f"still running after {BLOCK_TIMEOUT_S} s")
    # What it left running in the background (`cmd &`) goes as a closed terminal's jobs do.
    p.stop(signal.SIGTERM)
    if status != 0:
        raise p.failure(f"exit status {status}")
    p.check_expected()


def start_server(p: Process):
    """Waits until a `# terminal 1` block says how to stop it: it serves from then on."""
    while READY not in p.output():
        if p.wait(0.2) is not None:
            raise p.failure(f"exited ({p.proc.returncode}) before it printed {READY!r}")
        if time.monotonic() - p.started > BLOCK_TIMEOUT_S:
            p.stop()
            raise p.failure(f"did not print {READY!r} within {BLOCK_TIMEOUT_S} s")


def stop_server(p: Process):
    if p.proc.poll() is not None:
        raise p.failure(f"exited ({p.proc.returncode}) while it was meant to serve")
    p.stop(signal.SIGINT)
    if p.proc.returncode not in (0, 130, -signal.SIGINT):
        raise p.failure(f"Ctrl-C ended it with status {p.proc.returncode}")
    p.check_expected()


def processes():
    """(pid, state, process group, command line) of every process this one can see in /proc."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue  # gone meanwhile
            yield int(d.name), fields[0], int(fields[2]), cmd


def leftovers() -> list:
    """Live processes of this PID namespace but this one, its init (which reaps the orphans)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return [f"{pid} {cmd}" for pid, state, _, cmd in processes() if pid != os.getpid() and state != "Z"]


def run(blocks: list, isolated: bool):
    n, ran, pairs = 0, 0, 0
    server = None
    for i, b in enumerate(blocks):
        if b.role == "skip":
            print(f"-- {b.where}: skipped ({b.first[len(SKIP):].strip()})", flush=True)
            continue
        n += 1
        started = time.monotonic()
        p = Process(b, n)
        try:
            if b.role == "terminal 1":
                print(f"-- {b.where}: terminal 1, started", flush=True)
                start_server(p)
                print(f"   serving after {time.monotonic() - started:.1f} s", flush=True)
                server = p
                if i + 1 < len(blocks) and blocks[i + 1].role == "terminal 2":
                    continue
                print("   (no '# terminal 2' block follows: stopped once it serves)", flush=True)
            else:
                print(f"-- {b.where}: {b.role}", flush=True)
                run_to_end(p)
                ran += 1
                print(f"   passed in {time.monotonic() - started:.1f} s", flush=True)
            if server is not None:
                stop_server(server)
                ran += 1
                pairs += b.role == "terminal 2"
                print(f"   terminal 1 of {server.block.where} stopped by Ctrl-C", flush=True)
                server = None
        except BaseException:
            for q in (p, server):
                if q is not None and q.proc.poll() is None:
                    q.stop(signal.SIGTERM)
            raise
        if isolated and (left := leftovers()):
            raise DocsError(f"{b.where}: processes outlived the block:\n  " + "\n  ".join(left))
    return ran, pairs


def isolation_works() -> bool:
    probe = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--map-root-user", "--kill-child",
             "ip", "link", "set", "lo", "up"]
    try:
        return subprocess.run(probe, capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def main(argv: list) -> int:
    keep = "--keep" in argv
    names = [a for a in argv if a != "--keep"]
    files = [ROOT / a for a in names] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    try:
        blocks = shell_blocks(files)
    except DocsError as e:
        print(f"run-docs: {e}", file=sys.stderr)
        return 1

    if os.environ.get(INSIDE) != "1":
        # What a block may need from the network is fetched first: inside, there is none.
        for venv in ("ministack", "tools"):
            subprocess.run([ROOT / "scripts" / "venv.sh", venv], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cargo", "fetch", "--quiet"], cwd=ROOT, check=True)
        make_copy()
        if isolation_works():
            print("run-docs: in network and PID namespaces of its own, from a copy in .scratch/docs-run", flush=True)
            wrapper = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--map-root-user",
                       "--kill-child", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
            env = dict(os.environ, **{INSIDE: "1"})
            status = subprocess.run([*wrapper, sys.executable, __file__, *argv], env=env).returncode
            if not keep and status == 0:
                shutil.rmtree(COPY)
            return status
        print("run-docs: no network namespace here (unshare): the blocks use the machine's ports", flush=True)

    started = time.monotonic()
    isolated = os.environ.get(INSIDE) == "1"
    try:
        ran, pairs = run(blocks, isolated)
        skipped = [b for b in blocks if b.role == "skip"]
        markers = marker_lines(files)
        if len(skipped) != markers:
            raise DocsError(f"{markers} '{SKIP}' lines in the files, but {len(skipped)} blocks skipped")
    except DocsError as e:
        print(f"\nrun-docs: FAILED at {e}\n(the copy and its logs: {COPY.relative_to(ROOT)})", file=sys.stderr)
        return 1
    print(
        f"\nrun-docs: {ran} shell blocks ran as written ({pairs} terminal pairs), {len(skipped)} marked"
        f" '{SKIP}' and skipped, in {time.monotonic() - started:.0f} s"
    )
    if not isolated and not keep:
        shutil.rmtree(COPY)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
