;; Spins forever: fuel stops it at the same instruction on every worker.
(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $spin (br $spin))))
