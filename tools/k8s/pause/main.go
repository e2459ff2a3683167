// Command pause sleeps until it is asked to stop, or for the duration given as its argument
// ("5s"). It is the infrastructure container of every pod on the local end-to-end node (it holds
// the pod's namespaces), and the process the test workloads run: a Deployment whose pods run it
// is as real to the scheduler, the kubelet and nsshutdown as any other, and a CronJob's pods
// finish after a few seconds.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var deadline <-chan time.Time
	if len(os.Args) > 1 {
		duration, err := time.ParseDuration(os.Args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "pause: %v\n", err)
			os.Exit(2)
		}
		deadline = time.After(duration)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case sig := <-stop:
			fmt.Fprintf(os.Stderr, "pause: %s, exiting\n", sig)
			os.Exit(0)
		case <-deadline:
			os.Exit(0)
		case <-children:
			reap()
		}
	}
}

// reap collects exited children: as PID 1 of a pod, orphans are re-parented to this process.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
