package router

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestWireContract pins the field numbers, types and names that existing
// clients of router.RouterService depend on. A failure here means a change
// would break them: add new fields instead.
func TestWireContract(t *testing.T) {
	contract := map[string][]string{
		"CreateVLANRequest":         {"1 vlan_id uint32", "2 subnet string", "3 gateway string", "4 network_name string", "5 mtu uint32", "6 enable_nat bool optional"},
		"CreateVLANResponse":        {"1 success bool", "2 interface_name string", "3 mac_address string", "4 error string"},
		"DeleteVLANRequest":         {"1 vlan_id uint32"},
		"DeleteVLANResponse":        {"1 success bool", "2 error string"},
		"ConfigureNATRequest":       {"1 vlan_id uint32", "2 source_subnet string"},
		"ConfigureNATResponse":      {"1 success bool", "2 error string"},
		"RemoveNATRequest":          {"1 vlan_id uint32", "2 source_subnet string"},
		"RemoveNATResponse":         {"1 success bool", "2 error string"},
		"ConfigureDNSRequest":       {"1 vlan_id uint32", "2 subnet string", "3 gateway string", "4 domain string", "5 hosts map<string,string>"},
		"ConfigureDNSResponse":      {"1 success bool", "2 error string"},
		"AddPortMappingRequest":     {"1 container_ip string", "2 container_port uint32", "3 host_port uint32", "4 protocol string", "5 vlan_id uint32"},
		"AddPortMappingResponse":    {"1 success bool", "2 error string"},
		"RemovePortMappingRequest":  {"1 host_port uint32", "2 protocol string"},
		"RemovePortMappingResponse": {"1 success bool", "2 error string"},
		"ListVLANsRequest":          {"1 vlan_id uint32"},
		"ListVLANsResponse":         {"1 vlans repeated router.VLANInterface", "2 error string"},
		"VLANInterface":             {"1 vlan_id uint32", "2 interface_name string", "3 gateway string", "4 subnet string", "5 mac_address string", "6 mtu uint32", "7 is_up bool", "8 nat_enabled bool"},
		"HealthRequest":             {},
		"HealthResponse":            {"1 healthy bool", "2 status string", "3 active_vlans uint32", "4 uptime_seconds uint64"},
	}
	fd := File_api_router_router_proto
	if fd.Package() != "router" {
		t.Fatalf("package %q, want router", fd.Package())
	}
	for msgName, fields := range contract {
		md := fd.Messages().ByName(protoreflect.Name(msgName))
		if md == nil {
			t.Errorf("message %s is missing", msgName)
			continue
		}
		for _, want := range fields {
			num, err := strconv.Atoi(strings.Fields(want)[0])
			if err != nil {
				t.Fatal(err)
			}
			fdesc := md.Fields().ByNumber(protoreflect.FieldNumber(num))
			if fdesc == nil {
				t.Errorf("%s: field %d is missing", msgName, num)
				continue
			}
			if got := describe(fdesc); got != want {
				t.Errorf("%s: field %d is %q, want %q", msgName, num, got, want)
			}
		}
	}
	rpcs := map[string][2]string{
		"CreateVLAN":        {"CreateVLANRequest", "CreateVLANResponse"},
		"DeleteVLAN":        {"DeleteVLANRequest", "DeleteVLANResponse"},
		"ConfigureNAT":      {"ConfigureNATRequest", "ConfigureNATResponse"},
		"RemoveNAT":         {"RemoveNATRequest", "RemoveNATResponse"},
		"ConfigureDNS":      {"ConfigureDNSRequest", "ConfigureDNSResponse"},
		"AddPortMapping":    {"AddPortMappingRequest", "AddPortMappingResponse"},
		"RemovePortMapping": {"RemovePortMappingRequest", "RemovePortMappingResponse"},
		"ListVLANs":         {"ListVLANsRequest", "ListVLANsResponse"},
		"GetHealth":         {"HealthRequest", "HealthResponse"},
	}
	sd := fd.Services().ByName("RouterService")
	if sd == nil {
		t.Fatal("service RouterService is missing")
	}
	for name, io := range rpcs {
		m := sd.Methods().ByName(protoreflect.Name(name))
		if m == nil {
			t.Errorf("rpc %s is missing", name)
			continue
		}
		if string(m.Input().Name()) != io[0] || string(m.Output().Name()) != io[1] || m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("rpc %s(%s) returns (%s), want unary %s -> %s", name, m.Input().Name(), m.Output().Name(), io[0], io[1])
		}
	}
}

// describe renders a field as "<number> <name> <type>[ optional]".
func describe(f protoreflect.FieldDescriptor) string {
	num := int(f.Number())
	switch {
	case f.IsMap():
		return strconv.Itoa(num) + " " + string(f.Name()) + " map<" + f.MapKey().Kind().String() + "," + f.MapValue().Kind().String() + ">"
	case f.IsList() && f.Kind() == protoreflect.MessageKind:
		return strconv.Itoa(num) + " " + string(f.Name()) + " repeated " + string(f.Message().FullName())
	}
	s := strconv.Itoa(num) + " " + string(f.Name()) + " " + f.Kind().String()
	if f.HasPresence() && f.Kind() != protoreflect.MessageKind {
		s += " optional"
	}
	return s
}
