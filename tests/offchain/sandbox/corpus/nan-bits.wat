;; Computes 0/0 and exits with the top byte of its bits. NaN canonicalization
;; makes it 0x7f (quiet positive NaN 0x7fc00000) on every worker; x86 hardware
;; alone would give 0xff.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $div (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
  (func (export "_start")
    (call $exit (i32.shr_u (i32.reinterpret_f32
      (call $div (f32.const 0) (f32.const 0))) (i32.const 24)))))
