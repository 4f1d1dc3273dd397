# ctr-lite's exec trampoline (amd64), see exeseal.Trampoline.
# argv = [name, fifo, failed, path, arg0, ...]: become non-dumpable, open fifo for writing (blocks
# until start), close the O_PATH fd N of "/proc/self/fd/N", write "0", execve
# path with argv[4:] and envp; on failure write failed, path, "\0", errno.
# Build: as -o t.o trampoline_amd64.s && ld -static -N -s --build-id=none -o t t.o
	.globl _start
	.text
_start:
	movl	$4, %edi		# PR_SET_DUMPABLE
	xorl	%esi, %esi		# 0: no process of the container may open our /proc/PID/fd
	movl	$157, %eax		# prctl(2); the program's execve makes it dumpable again
	syscall
	movq	$-100, %rdi		# AT_FDCWD
	movq	16(%rsp), %rsi		# argv[1]: the exec FIFO, "/proc/self/fd/N"
	movl	$0x80001, %edx		# O_WRONLY|O_CLOEXEC
	xorl	%r10d, %r10d
	movl	$257, %eax		# openat(2): blocks until start opens the FIFO
	syscall
	testq	%rax, %rax
	js	out
	movq	%rax, %r15		# the FIFO's write end
	# N, parsed from the path after its last '/': the O_PATH fd to close
	movq	16(%rsp), %rsi
	xorl	%ecx, %ecx		# n
	xorl	%edi, %edi
1:	movzbl	(%rsi), %eax
	testl	%eax, %eax
	jz	3f
	incq	%rsi
	cmpl	$'/', %eax
	jne	2f
	xorl	%ecx, %ecx
	jmp	1b
2:	subl	$'0', %eax
	imull	$10, %ecx
	addl	%eax, %ecx
	jmp	1b
3:	movl	%ecx, %edi
	movl	$3, %eax		# close(N)
	syscall
	movq	%r15, %rdi
	leaq	zero(%rip), %rsi
	movl	$1, %edx
	movl	$1, %eax		# write(fifo, "0", 1)
	syscall
	movq	32(%rsp), %rdi		# argv[3]: the program
	leaq	40(%rsp), %rsi		# &argv[4]: its argv
	movq	(%rsp), %rax
	leaq	16(%rsp,%rax,8), %rdx	# envp: after argv's NULL
	movl	$59, %eax		# execve(2)
	syscall
	negq	%rax
	movb	%al, errno(%rip)
	movq	24(%rsp), %rsi		# argv[2]: the failed step's name
	xorl	%edx, %edx
4:	cmpb	$0, (%rsi,%rdx)
	je	5f
	incq	%rdx
	jmp	4b
5:	movq	%r15, %rdi
	movl	$1, %eax		# write(fifo, name)
	syscall
	movq	32(%rsp), %rsi		# argv[3]: the program it names
	xorl	%edx, %edx
6:	cmpb	$0, (%rsi,%rdx)
	je	7f
	incq	%rdx
	jmp	6b
7:	movq	%r15, %rdi
	movl	$1, %eax		# write(fifo, program)
	syscall
	movq	%r15, %rdi
	leaq	nul(%rip), %rsi
	movl	$2, %edx
	movl	$1, %eax		# write(fifo, "\0" errno)
	syscall
out:	movl	$127, %edi
	movl	$231, %eax		# exit_group(127)
	syscall
zero:	.byte	'0'
nul:	.byte	0
errno:	.byte	0
