;; Unbounded recursion with a fat frame.
(module
  (memory (export "memory") 1)
  (func $dive (param i64 i64 i64 i64) (result i64)
    (i64.add (call $dive (local.get 0) (local.get 1) (local.get 2) (local.get 3)) (local.get 0)))
  (func (export "_start") (drop (call $dive (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)))))
