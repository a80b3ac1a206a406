;; Hands WASI a pointer past the end of memory: EFAULT, not a host crash.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (call $random (i32.const 65000) (i32.const 100000)))))
