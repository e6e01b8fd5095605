# Entry point of every guest program (docs/protocol.md §4.7).
#
# The loader hands over with $sp = 0x7FFFF000 and every other register 0, so there is nothing to
# set up: reserve the o32 argument area, call main(), and pass its return value to exit_group.
# Under qemu-user $sp points at argc/argv instead; main() takes no arguments, so that is harmless.

    .set noreorder
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    addiu   $sp, $sp, -16       # o32: the caller reserves 16 bytes for the callee's $a0..$a3
    jal     main
    nop
    move    $a0, $v0
    li      $v0, 4246           # exit_group(main())
    syscall
1:  b       1b                  # not reached: exit_group does not return
    nop
    .size _start, . - _start
