// Command vm-driver runs inside the helper VM. It builds the test topology,
// starts router-service as the router, and either runs the end-to-end
// scenario (-mode test) or narrates a demo (-mode demo).
//
// Topology: the router's eth0 is one end of a veth whose other end sits on a
// Linux bridge in the "fabric" namespace. Container namespaces attach to that
// bridge and put their address on a VLAN subinterface of their own, as
// container VMs do. The client reaches the daemon over vsock loopback (CID 1).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	mode := flag.String("mode", "test", "test or demo")
	flag.Parse()
	var err error
	switch *mode {
	case "test":
		err = runScenario()
	case "demo":
		err = runDemo()
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Println("vm-driver:", err)
		os.Exit(1)
	}
}
