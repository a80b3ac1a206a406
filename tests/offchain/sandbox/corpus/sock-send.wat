;; Tries to send on fd 1 as a socket and exits with the errno.
(module
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $exit (call $send (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8)))))
