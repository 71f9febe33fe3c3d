//! The AWS shape's adapters. Each module implements one port over one AWS service, through the
//! official SDK; `AWS_ENDPOINT_URL` points them at an emulator in tests.
