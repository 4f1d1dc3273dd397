// ctr-lite's exec trampoline (arm64), see exeseal.Trampoline.
// argv = [name, fifo, failed, path, arg0, ...]: become non-dumpable, open fifo for writing (blocks
// until start), close the O_PATH fd N of "/proc/self/fd/N", write "0", execve
// path with argv[4:] and envp; on failure write failed, path, "\0", errno.
// Build: aarch64-linux-gnu-as -o t.o trampoline_arm64.s &&
//        aarch64-linux-gnu-ld -static -N -s --build-id=none -o t t.o
	.globl	_start
	.text
_start:
	mov	x19, sp			// x19: the initial stack (argc, argv..., NULL, envp...)
	mov	x0, #4			// PR_SET_DUMPABLE
	mov	x1, #0			// 0: no process of the container may open our /proc/PID/fd
	mov	x8, #167		// prctl(2); the program's execve makes it dumpable again
	svc	#0
	mov	x0, #-100		// AT_FDCWD
	ldr	x1, [x19, #16]		// argv[1]: the exec FIFO, "/proc/self/fd/N"
	mov	x2, #1			// O_WRONLY
	orr	x2, x2, #0x80000	// O_CLOEXEC
	mov	x3, #0
	mov	x8, #56			// openat(2): blocks until start opens the FIFO
	svc	#0
	cmp	x0, #0
	b.lt	out
	mov	x20, x0			// the FIFO's write end
	// N, parsed from the path after its last '/': the O_PATH fd to close
	ldr	x1, [x19, #16]
	mov	x2, #0			// n
1:	ldrb	w3, [x1], #1
	cbz	w3, 3f
	cmp	w3, #'/'
	b.ne	2f
	mov	x2, #0
	b	1b
2:	sub	w3, w3, #'0'
	mov	x4, #10
	mul	x2, x2, x4
	add	x2, x2, x3
	b	1b
3:	mov	x0, x2
	mov	x8, #57			// close(N)
	svc	#0
	mov	x0, x20
	adr	x1, zero
	mov	x2, #1
	mov	x8, #64			// write(fifo, "0", 1)
	svc	#0
	ldr	x0, [x19, #32]		// argv[3]: the program
	add	x1, x19, #40		// &argv[4]: its argv
	ldr	x2, [x19]		// argc
	add	x2, x19, x2, lsl #3
	add	x2, x2, #16		// envp: after argv's NULL
	mov	x8, #221		// execve(2)
	svc	#0
	neg	x0, x0
	adr	x1, errno
	strb	w0, [x1]
	ldr	x1, [x19, #24]		// argv[2]: the failed step's name
	bl	strlen
	mov	x0, x20
	mov	x8, #64			// write(fifo, name)
	svc	#0
	ldr	x1, [x19, #32]		// argv[3]: the program it names
	bl	strlen
	mov	x0, x20
	mov	x8, #64			// write(fifo, program)
	svc	#0
	mov	x0, x20
	adr	x1, nul
	mov	x2, #2
	mov	x8, #64			// write(fifo, "\0" errno)
	svc	#0
out:	mov	x0, #127
	mov	x8, #94			// exit_group(127)
	svc	#0
// strlen: x2 = length of the string at x1 (x1 kept)
strlen:	mov	x2, #0
4:	ldrb	w3, [x1, x2]
	cbz	w3, 5f
	add	x2, x2, #1
	b	4b
5:	ret
zero:	.byte	'0'
nul:	.byte	0
errno:	.byte	0
