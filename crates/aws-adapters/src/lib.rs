//! DynamoDB and EventBridge adapters (being written).
