# Instructions clang -march=mips32 rarely or never emits (docs/protocol.md §4.4): clo, clz,
# movz/movn, madd/maddu/msub/msubu, the MIPS32r2 seb/seh/wsbh/ext/ins, ll/sc, sync, pref,
# bltzal/bgezal (link written taken or not), teq/tne with a false condition, lwl/lwr/swl/swr at
# every offset, sra/srav of negative values, jalr with rd != 31.
# Each result is printed with oao_print_hex32 (one per line), then main returns 0.

    .set noreorder
    .set mips32r2
    .text
    .globl main
    .type main, @function

# PRINT reg: prints a register in hex and a newline, preserving every register but $ra.
.macro PRINT reg
    addiu   $sp, $sp, -96
    sw      $a0, 16($sp)
    sw      $a1, 20($sp)
    sw      $a2, 24($sp)
    sw      $a3, 28($sp)
    sw      $v0, 32($sp)
    sw      $v1, 36($sp)
    sw      $t0, 40($sp)
    sw      $t1, 44($sp)
    sw      $t2, 48($sp)
    sw      $t3, 52($sp)
    sw      $t4, 56($sp)
    sw      $t5, 60($sp)
    sw      $t6, 64($sp)
    sw      $t7, 68($sp)
    sw      $t8, 72($sp)
    sw      $t9, 76($sp)
    mfhi    $t0
    sw      $t0, 80($sp)
    mflo    $t0
    sw      $t0, 84($sp)
    lw      $t0, 40($sp)
    move    $a0, \reg
    jal     oao_print_hex32
    nop
    la      $a0, newline
    jal     oao_print
    nop
    lw      $t0, 80($sp)
    mthi    $t0
    lw      $t0, 84($sp)
    mtlo    $t0
    lw      $a0, 16($sp)
    lw      $a1, 20($sp)
    lw      $a2, 24($sp)
    lw      $a3, 28($sp)
    lw      $v0, 32($sp)
    lw      $v1, 36($sp)
    lw      $t0, 40($sp)
    lw      $t1, 44($sp)
    lw      $t2, 48($sp)
    lw      $t3, 52($sp)
    lw      $t4, 56($sp)
    lw      $t5, 60($sp)
    lw      $t6, 64($sp)
    lw      $t7, 68($sp)
    lw      $t8, 72($sp)
    lw      $t9, 76($sp)
    addiu   $sp, $sp, 96
.endm

main:
    addiu   $sp, $sp, -40
    sw      $ra, 36($sp)
    sw      $s0, 32($sp)
    sw      $s1, 28($sp)

    li      $s0, 0x0000f0ff
    clo     $t0, $s0                # 0
    PRINT   $t0
    li      $s0, 0xfff00000
    clo     $t0, $s0                # 12
    PRINT   $t0
    li      $s0, 0xffffffff
    clo     $t0, $s0                # 32
    PRINT   $t0
    clz     $t0, $zero              # 32
    PRINT   $t0
    li      $s0, 0x00012345
    clz     $t0, $s0                # 15
    PRINT   $t0

    li      $t0, 0x11111111
    li      $t1, 0x22222222
    movz    $t0, $t1, $zero         # moves: t0 = 0x22222222
    movn    $t1, $s0, $zero         # no move
    PRINT   $t0
    PRINT   $t1

    # madd/maddu/msub/msubu on hi:lo
    li      $t0, -3
    li      $t1, 0x7fffffff
    mult    $t0, $t1                # hi:lo = -3 * 0x7fffffff
    madd    $t0, $t0                # += 9
    maddu   $t1, $t1                # += 0x3fffffff00000001
    msub    $t1, $t0                # -= 0x7fffffff * -3
    msubu   $t0, $t1                # -= 0xfffffffd * 0x7fffffff
    mfhi    $s0
    mflo    $s1
    PRINT   $s0
    PRINT   $s1
    mthi    $zero
    mtlo    $zero
    li      $t0, 0xffffffff
    maddu   $t0, $t0                # 0xfffffffe00000001
    maddu   $t0, $t0                # carry into hi: 0x1fffffffc00000002
    mfhi    $s0
    mflo    $s1
    PRINT   $s0
    PRINT   $s1

    li      $s0, 0x12345680
    seb     $t0, $s0                # 0xffffff80
    PRINT   $t0
    li      $s0, 0x1234a5a5
    seh     $t0, $s0                # 0xffffa5a5
    PRINT   $t0
    li      $s0, 0x11223344
    wsbh    $t0, $s0                # 0x22114433
    PRINT   $t0
    li      $s0, 0xdeadbeef
    ext     $t0, $s0, 4, 12         # 0xbee
    PRINT   $t0
    ext     $t0, $s0, 0, 32         # 0xdeadbeef
    PRINT   $t0
    li      $t0, 0xffffffff
    ins     $t0, $zero, 8, 8        # 0xffff00ff
    PRINT   $t0
    li      $t0, 0x00000000
    ins     $t0, $s0, 20, 12        # 0xeef00000
    PRINT   $t0

    # ll/sc, sync, pref
    la      $s1, scratch
    li      $t0, 0x5a5a5a5a
    sw      $t0, 0($s1)
    ll      $t1, 0($s1)
    addiu   $t1, $t1, 1
    sc      $t1, 0($s1)             # t1 = 1 (success)
    sync
    pref    0, 0($s1)
    lw      $t2, 0($s1)
    PRINT   $t1
    PRINT   $t2

    # bltzal / bgezal: the link is written whether or not the branch is taken
    li      $ra, 0
    li      $t0, 5
    bltzal  $t0, 1f                 # not taken, $ra = pc + 8
    nop
5:  move    $s0, $ra
    la      $t1, 5b
    subu    $s0, $s0, $t1           # 0: $ra points at the instruction after the delay slot
    PRINT   $s0
    li      $t0, 0
    bgezal  $t0, 3f                 # taken
    nop
    li      $s0, 0xbad
    b       4f
    nop
3:  li      $s0, 0x600d
4:  PRINT   $s0
1:
    # teq/tne with a false condition do nothing
    li      $t0, 1
    li      $t1, 2
    teq     $t0, $t1
    tne     $t0, $t0
    # lwl/lwr/swl/swr at every offset
    la      $s1, scratch
    li      $t0, 0x00112233
    sw      $t0, 0($s1)
    li      $t0, 0x44556677
    sw      $t0, 4($s1)
    li      $t2, 0
    li      $t3, 0
1:  li      $t4, 0xaaaaaaaa
    addu    $t5, $s1, $t2
    lwl     $t4, 0($t5)
    lwr     $t4, 3($t5)             # an unaligned word at scratch + t2
    xor     $t3, $t3, $t4
    sll     $t3, $t3, 1
    addiu   $t2, $t2, 1
    slti    $t6, $t2, 4
    bnez    $t6, 1b
    nop
    PRINT   $t3
    li      $t2, 0
1:  li      $t4, 0xc0ffee00
    or      $t4, $t4, $t2
    addu    $t5, $s1, $t2
    swl     $t4, 0($t5)
    swr     $t4, 3($t5)
    addiu   $t2, $t2, 1
    slti    $t6, $t2, 4
    bnez    $t6, 1b
    nop
    lw      $t0, 0($s1)
    lw      $t1, 4($s1)
    PRINT   $t0
    PRINT   $t1

    # arithmetic shifts of negative values (add/sub overflow is in instructions.test.ts: qemu traps on it)
    li      $t0, 0x80000000
    sra     $t1, $t0, 31            # 0xffffffff
    PRINT   $t1
    li      $t2, 35
    srav    $t1, $t0, $t2           # shift by 35 & 31 = 3: 0xf0000000
    PRINT   $t1
    # jalr with a link register other than $ra
    la      $t9, leaf
    jalr    $s0, $t9
    nop
    PRINT   $v1

    lw      $s1, 28($sp)
    lw      $s0, 32($sp)
    lw      $ra, 36($sp)
    move    $v0, $zero
    jr      $ra
    addiu   $sp, $sp, 40
    .size main, . - main

leaf:
    li      $v1, 0x1eaf
    jr      $s0
    nop

    .data
    .align 2
scratch:
    .word 0, 0, 0, 0
newline:
    .asciz "\n"
