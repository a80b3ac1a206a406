;; Asks for a table bigger than the store allows.
(module
  (table 5000000 funcref)
  (memory (export "memory") 1)
  (func (export "_start")))
