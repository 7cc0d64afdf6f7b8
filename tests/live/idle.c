/* Stands in for a Kubernetes component in the live-node test: it keeps the
   argument list it was started with and waits to be killed. */
#include <unistd.h>

int main(void) {
    for (;;) pause();
}
