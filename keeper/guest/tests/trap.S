# vm-only: the VM fails the step; qemu-mips raises SIGTRAP.
# teq with a true condition: the step fails with Trap (docs/protocol.md §4.4).
    .set noreorder
    .text
    .globl main
main:
    li      $t0, 7
    teq     $t0, $t0
    nop
    jr      $ra
    move    $v0, $zero
