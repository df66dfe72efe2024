/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-init: the minimal init a container gets with `init: true`. It runs as PID 1, starts the
 * command as its child, forwards the signals it receives to that child, reaps every zombie
 * (orphans are reparented to PID 1), and exits with the child's status (128 + signal when the
 * child was killed), as docker-init does.
 *
 * It is built static and small, without the rest of berth: it must run in any image (no
 * libraries of the host inside the container) and the daemon loads it into a sealed memfd, so
 * nothing in the container can reach the host's file. Usage: berth-init -- CMD [ARG...].
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void
on_signal(int sig)
{
    (void) sig;
}

static void
die(const char *what, const char *arg)
{
    dprintf(2, "berth-init: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
    _exit(127);
}

int
main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc) {
        dprintf(2, "berth-init: no command\n");
        return 2;
    }
    sigset_t all, old;
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, &old) < 0)
        die("cannot block signals", NULL);
    /* Handlers (never run: every signal is blocked and taken by sigwaitinfo) so that the
     * kernel delivers signals to PID 1 and SigCgt tells the daemon a stop signal is caught. */
    struct sigaction sa = { .sa_handler = on_signal };
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void) sigaction(sig, &sa, NULL);
    pid_t child = fork();
    if (child < 0)
        die("cannot fork", NULL);
    if (child == 0) {
        /* The command gets the signal dispositions a normal start would give it. */
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int sig = 1; sig < 32; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                (void) sigaction(sig, &dfl, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        /* In the terminal's foreground when there is one, so ^C reaches it. */
        if (setpgid(0, 0) == 0 && isatty(0))
            (void) tcsetpgrp(0, getpid());
        execvp(argv[first], argv + first);
        int e = errno;
        dprintf(2, "berth-init: exec %s: %s\n", argv[first], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    if (isatty(0))
        (void) tcsetpgrp(0, child);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            /* Forward it; SIGKILL and SIGSTOP never get here. */
            (void) kill(child, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                break;
            if (pid == child)
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
    }
}
