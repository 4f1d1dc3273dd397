// Package process sets up the process a container runs, the last stage
// before execve(2): hostname, sysctl, rlimits, oom_score_adj, user and
// groups, umask, cwd, environment, no_new_privs, the file descriptors it
// keeps, and the calls into caps and seccomp at the right moment.
package process
