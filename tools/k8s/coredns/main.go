// Command coredns is CoreDNS with a small plugin set: enough to answer for a cluster's Services
// and Pods (kubernetes), report health and readiness, cache, and log errors. The upstream main
// package links every plugin (cloud DNS providers included); importing only these keeps the
// build a fraction of the size and time.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The order in which the plugins handle a query; the same relative order as upstream CoreDNS.
var directives = []string{"errors", "log", "health", "ready", "cache", "loadbalance", "kubernetes"}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
