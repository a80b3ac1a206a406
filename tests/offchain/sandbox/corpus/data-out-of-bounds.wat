;; A data segment past the end of memory: instantiation traps.
(module
  (memory (export "memory") 1)
  (data (i32.const 65535) "xyz")
  (func (export "_start")))
