import { IP, type Netns } from '@router-service/test-support';
import { Iproute2VlanBackend } from '../src/backend.js';
import { execaIpRunner } from '../src/ip-runner.js';
import { netnsSysctlWriter } from '../src/sysctl.js';
import { silentLogger } from '@router-service/core';

/** The backend on the real ip binary, driving `ns`; with setAddress, which the contract does not expose. */
export function realBackend(ns: Netns): Iproute2VlanBackend {
  const run = execaIpRunner(IP);
  return new Iproute2VlanBackend({ run, sysctl: netnsSysctlWriter(run, ns.name, '/usr/sbin/sysctl'), netns: ns.name, log: silentLogger });
}
