package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseWithIDKeepsEveryFlag(t *testing.T) {
	for _, args := range [][]string{
		{"100", "--subnet", "10.1.0.0/24", "--internal", "--mtu", "1400"},
		{"--subnet", "10.1.0.0/24", "100", "--internal", "--mtu", "1400"},
		{"--subnet", "10.1.0.0/24", "--internal", "--mtu", "1400", "100"},
	} {
		fs := flag.NewFlagSet("vlan create", flag.ContinueOnError)
		subnet := fs.String("subnet", "", "")
		internal := fs.Bool("internal", false, "")
		mtu := uint32Flag(fs, "mtu", 0, "")
		id, err := parseWithID(fs, args, true)
		if err != nil || id != 100 || *subnet != "10.1.0.0/24" || !*internal || *mtu != 1400 {
			t.Errorf("%v: id=%d subnet=%q internal=%t mtu=%d err=%v", args, id, *subnet, *internal, *mtu, err)
		}
	}
}

func TestParseWithIDRejectsLeftovers(t *testing.T) {
	for args, want := range map[string]string{
		"100 200":            "unexpected arguments",
		"--subnet x 100 7":   "unexpected arguments",
		"":                   "VLAN id is required",
		"abc":                "not a number",
		"--mtu 4294967376 1": "not a number",
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("subnet", "", "")
		uint32Flag(fs, "mtu", 0, "")
		_, err := parseWithID(fs, strings.Fields(args), true)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err=%v, want %q", args, err, want)
		}
	}
}
