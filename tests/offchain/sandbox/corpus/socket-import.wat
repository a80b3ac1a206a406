;; Asks for a host socket API that does not exist in the sandbox.
(module
  (import "env" "connect" (func $connect (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $connect (i32.const 0) (i32.const 0)))))
