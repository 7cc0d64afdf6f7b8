/* Does for the deployment tests what a container runtime does for one
   container of a pod: volumes bound into the container's root, a procfs of
   its PID namespace, a read-only root, chroot, the securityContext's user,
   groups and capabilities, no new privileges, and exactly the environment
   the pod spec gives. Run inside fresh mount and PID namespaces
   (`unshare --mount --pid --fork`); the caller made ROOT and its mount points.

   contain --root DIR [--bind SRC:DST[:ro]]... [--proc] [--ro-root]
           [--uid N] [--gid N] [--groups G,G] [--caps N,N] [--no-new-privs]
           [--env K=V]... -- PROGRAM ARG...  */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

static void die(const char *what, const char *arg) {
    fprintf(stderr, "contain: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
    exit(127);
}

static char path_buf[4096];

static const char *under(const char *root, const char *path) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", root, path[0] == '/' ? path + 1 : path);
    return path_buf;
}

int main(int argc, char **argv) {
    const char *root = NULL;
    char *binds[64];
    int nbinds = 0, proc = 0, ro_root = 0, no_new_privs = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    gid_t groups[32];
    int ngroups = 0;
    int keep[64] = {0};
    char *env[128];
    int nenv = 0;
    static struct option opts[] = {
        {"root", required_argument, 0, 'r'}, {"bind", required_argument, 0, 'b'},
        {"proc", no_argument, 0, 'p'},       {"ro-root", no_argument, 0, 'o'},
        {"uid", required_argument, 0, 'u'},  {"gid", required_argument, 0, 'g'},
        {"groups", required_argument, 0, 'G'}, {"caps", required_argument, 0, 'c'},
        {"no-new-privs", no_argument, 0, 'n'}, {"env", required_argument, 0, 'e'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': root = optarg; break;
        case 'b': if (nbinds < 64) binds[nbinds++] = optarg; break;
        case 'p': proc = 1; break;
        case 'o': ro_root = 1; break;
        case 'u': uid = (uid_t)atoi(optarg); break;
        case 'g': gid = (gid_t)atoi(optarg); break;
        case 'G':
            for (char *t = strtok(optarg, ","); t && ngroups < 32; t = strtok(NULL, ","))
                groups[ngroups++] = (gid_t)atoi(t);
            break;
        case 'c':
            for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ","))
                if (atoi(t) >= 0 && atoi(t) < 64) keep[atoi(t)] = 1;
            break;
        case 'n': no_new_privs = 1; break;
        case 'e': if (nenv < 127) env[nenv++] = optarg; break;
        default: return 127;
        }
    }
    env[nenv] = NULL;
    if (!root || optind >= argc) {
        fprintf(stderr, "contain: --root DIR and a program are needed\n");
        return 127;
    }

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("making mounts private", "/");
    /* The root becomes a mount of its own, so it can be made read-only
       without its volumes. */
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL)) die("binding the root", root);
    for (int i = 0; i < nbinds; i++) {
        char *src = binds[i], *dst = strchr(src, ':');
        if (!dst) { errno = EINVAL; die("--bind", src); }
        *dst++ = 0;
        char *ro = strchr(dst, ':');
        if (ro) *ro++ = 0;
        const char *target = under(root, dst);
        if (mount(src, target, NULL, MS_BIND | MS_REC, NULL)) die("binding", target);
        if (ro && strcmp(ro, "ro") == 0 &&
            mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
            die("making read-only", target);
    }
    if (proc && mount("proc", under(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
        die("mounting proc in", root);
    if (ro_root && mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
        die("making the root read-only", root);
    if (chroot(root) || chdir("/")) die("chroot", root);

    /* Capabilities: the bounding set keeps only those the spec adds; a
       non-root user loses the rest at setuid, root at exec. */
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (!keep[cap] && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
            die("dropping a capability", NULL);
    if (setgroups(ngroups, groups)) die("setgroups", NULL);
    if (setresgid(gid, gid, gid)) die("setresgid", NULL);
    if (setresuid(uid, uid, uid)) die("setresuid", NULL);
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs", NULL);
    /* New credentials cleared `unshare --kill-child`'s parent-death signal:
       the container still ends with its parent. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)) die("PR_SET_PDEATHSIG", NULL);
    execve(argv[optind], argv + optind, env);
    die("exec", argv[optind]);
}
