//! Gantry's local executor for the Amazon States Language: it runs `statemachine/mission.asl.json`,
//! the same file Step Functions runs in AWS, inside the `gantry` process.
//!
//! Why not the `asl` crate from crates.io: it drives a synchronous `execute_task` through an
//! iterator, and leaves Retry waits, Catch routing and task timeouts to the caller. Gantry's tasks
//! are async calls (brain, sandbox, deploy, publish) that must be dropped at `TimeoutSeconds` and
//! retried with backoff exactly as Step Functions would, and a definition the local shape cannot
//! honour must be refused at start-up. This crate is that small interpreter.
//!
//! Supported: Task, Pass, Choice, Succeed and Fail states; InputPath, Parameters (with `.$` keys at
//! any depth), ResultSelector, ResultPath (`null` and nested paths included) and OutputPath; paths
//! `$`, `$.a.b`, `$['a']`, `$.a[0]` and the context object `$$.Execution.{Id,Name,Input}`,
//! `$$.State.{Name,RetryCount}`; Retry, Catch and TimeoutSeconds (state and machine); the Choice
//! comparisons for strings, numbers and booleans, their `…Path` forms, the type tests and
//! And/Or/Not; and the intrinsics `States.Format`, `StringToJson`, `JsonToString`, `Array` and
//! `MathAdd`. Everything else (Map, Parallel, Wait, JSONata, heartbeats, …) is a [`LoadError`].

mod choice;
mod definition;
mod error;
mod intrinsic;
mod machine;
mod observer;
mod path;
mod task;
mod template;

pub use error::{errors, ExecutionFailure, LoadError, TaskFailure};
pub use machine::{RunOptions, StateMachine};
pub use observer::{NoopObserver, Observer};
pub use task::TaskInvoker;

/// Re-exported so invokers can be written without naming the crate version.
pub use async_trait::async_trait;
