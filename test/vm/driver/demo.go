package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// runDemo narrates what router-service does, running the same commands an
// operator would.
func runDemo() error {
	say("This is a helper VM booted for the demo: its eth0 is the trunk to the container VMs.")
	if err := buildFabric(); err != nil {
		return err
	}
	for _, n := range []network{net100, net200} {
		if err := addContainer(n.container); err != nil {
			return err
		}
		if err := setContainerAddr(n.container, int(n.vlan), n.containerAddr); err != nil {
			return err
		}
	}
	say("Two container VMs are plugged into the same switch; each tags its traffic with its network's VLAN id.")
	d, err := startDaemon()
	if err != nil {
		return err
	}
	defer d.stop()
	_, closeClient, err := dialVsock()
	if err != nil {
		return err
	}
	closeClient()
	say("router-service is up, listening on vsock port 50052 (and a unix socket for local tools).")
	show("routerctl", "health")

	say("The runtime creates two bridge networks, one VLAN each:")
	show("routerctl", "vlan", "create", "100", "--subnet", "172.18.0.0/16", "--gateway", "172.18.0.1", "--name", "frontend")
	show("routerctl", "vlan", "create", "200", "--subnet", "172.19.0.0/16", "--gateway", "172.19.0.1", "--name", "backend")
	show("routerctl", "vlan", "list")
	say("The kernel now has one 802.1Q link per network, holding the gateway address:")
	show(ipCmd, "-br", "addr", "show", "type", "vlan")

	say("A container on VLAN 100 reaches its gateway:")
	show(ipCmd, "netns", "exec", "c100", "/bin/ping", "-c", "2", "-W", "2", "172.18.0.1")
	say("...and one on VLAN 200 reaches its own:")
	show(ipCmd, "netns", "exec", "c200", "/bin/ping", "-c", "2", "-W", "2", "172.19.0.1")

	say("Publishing a port, masquerading, and naming containers are one call each:")
	show("routerctl", "port", "add", "--vlan", "100", "--container-ip", "172.18.0.2", "--container-port", "80", "--host-port", "8080")
	show("routerctl", "dns", "set", "100", "--domain", "frontend", "web=172.18.0.2")
	show("routerctl", "nat", "remove", "200")
	show("routerctl", "status")

	say("Bad input gets an error that says what to change, and nothing changes:")
	show("routerctl", "vlan", "create", "300", "--subnet", "172.18.5.0/24")
	show("routerctl", "port", "add", "--vlan", "100", "--container-ip", "172.19.0.2", "--container-port", "80", "--host-port", "8081")

	say("Deleting network 200 removes its link; its container loses the gateway:")
	show("routerctl", "vlan", "delete", "200")
	show("routerctl", "vlan", "list")
	show(ipCmd, "netns", "exec", "c200", "/bin/ping", "-c", "1", "-W", "2", "172.19.0.1")
	say("Done.")
	return nil
}

func say(msg string) {
	fmt.Printf("\n### %s\n", msg)
}

// show prints a command as typed and then its output, failures included:
// the demo shows what an operator would see.
func show(name string, args ...string) {
	display := strings.TrimPrefix(name, "/usr/sbin/")
	fmt.Printf("$ %s %s\n", display, strings.Join(args, " "))
	out, _ := run(name, args...)
	os.Stdout.WriteString(out)
	time.Sleep(100 * time.Millisecond)
}
