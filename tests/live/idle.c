/* Stands in for a Kubernetes component in the live-node test: it keeps the
   argument list it was started with and waits to be killed. Asked for its
   version, it answers as the kubelet and kube-apiserver binaries do. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts("Kubernetes v1.26.9");
        return 0;
    }
    for (;;) pause();
}
