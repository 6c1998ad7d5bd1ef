/** The command summary printed by --help and with command-line mistakes. */
export const USAGE = `usage: routerctl [--addr URL] [--json] [--timeout D] COMMAND

Commands:
  status                              health, networks, NAT, DNS and port mappings at a glance
  health                              service health
  vlan create ID --subnet CIDR [--gateway IP] [--name NAME] [--mtu N] [--nat=false] [--internal]
  vlan delete ID                      delete a network and everything on it
  vlan list [ID]                      networks with their live link state
  nat add ID [--source CIDR]          masquerade the network's subnet (or another source subnet)
  nat remove ID [--source CIDR]       stop masquerading it (without --source: all NAT of the network)
  dns set ID [--domain D] [--replace] [NAME=IP[,IP...] ...]
                                      add or update names the gateway answers; a name given
                                      several addresses (or given again) answers them round robin
  dns remove ID NAME...               remove names
  port add --vlan ID --container-ip IP --container-port N --host-port N[-M] [--protocol tcp|udp|sctp] [--host-ip IP] [--source CIDR ...]
                                      publish host port N, or ports N..M one-to-one from --container-port on;
                                      each --source CIDR or IP limits who may connect (default: anyone)
  port remove --host-port N[-M] [--protocol tcp|udp|sctp] [--host-ip IP]
                                      unpublish; a range is named by its first port, or as a whole
  port list [ID]                      port mappings, of one network or all

Global flags:
  --addr URL     vsock://CID:PORT, unix:///PATH or tcp://HOST:PORT (default vsock://1:50052)
  --json         print responses as JSON
  --timeout D    per-call timeout (default 10s)
`;
