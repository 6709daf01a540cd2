package dev.telemetry.gateway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private test network for processes that must be cut off from each other: one Linux network namespace per host,
 * each with a veth pair onto a bridge in the test's own namespace that carries a private /24 (10.77.N.0/24, N chosen
 * so it is unused here). Nothing is routed beyond the bridge; the test reaches every host at {@link #address(int)}
 * and hosts reach servers the test runs on {@link #bridgeAddress()}. {@link #partition} drops traffic between two
 * hosts both ways (blackhole routes in each namespace — no packet filter needed, so it works on kernels without tc
 * actions or netfilter modules) and {@link #heal} restores it. Needs root ({@code ip netns}); removes exactly what
 * it created.
 */
public final class NetworkNamespaces implements AutoCloseable {
  private final String id;
  private final int subnet;
  private final int hosts;
  private final List<String> namespaces = new ArrayList<>();
  private boolean bridgeCreated;

  private NetworkNamespaces(String id, int subnet, int hosts) {
    this.id = id;
    this.subnet = subnet;
    this.hosts = hosts;
  }

  /** Creates the bridge and {@code hosts} namespaces; undoes what it did when a step fails. */
  public static NetworkNamespaces create(int hosts) throws Exception {
    String routes = run(List.of("ip", "-4", "route", "show", "table", "all"));
    int subnet;
    do {
      subnet = ThreadLocalRandom.current().nextInt(1, 255);
    } while (routes.contains("10.77." + subnet + "."));
    NetworkNamespaces n = new NetworkNamespaces(String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24)),
        subnet, hosts);
    try {
      n.build();
    } catch (Exception e) {
      n.close();
      throw e;
    }
    return n;
  }

  private void build() throws Exception {
    String bridge = "gwb" + id;
    run(List.of("ip", "link", "add", bridge, "type", "bridge"));
    bridgeCreated = true;
    run(List.of("ip", "addr", "add", bridgeAddress() + "/24", "dev", bridge));
    run(List.of("ip", "link", "set", bridge, "up"));
    for (int i = 0; i < hosts; i++) {
      String ns = "gwit" + id + "-" + i;
      String outside = "gwv" + id + i;
      run(List.of("ip", "netns", "add", ns));
      namespaces.add(ns);
      run(List.of("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns));
      run(List.of("ip", "link", "set", outside, "master", bridge));
      run(List.of("ip", "link", "set", outside, "up"));
      run(List.of("ip", "netns", "exec", ns, "ip", "addr", "add", address(i) + "/24", "dev", "eth0"));
      run(List.of("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"));
      run(List.of("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"));
    }
  }

  /** The test's own address on the bridge: servers the hosts must reach listen here. */
  public String bridgeAddress() {
    return "10.77." + subnet + ".1";
  }

  /** Host {@code i}'s address. */
  public String address(int i) {
    return "10.77." + subnet + "." + (10 + i);
  }

  /** The command prefix that runs a program in host {@code i}'s namespace (its PID is the program's own). */
  public List<String> exec(int i) {
    return List.of("ip", "netns", "exec", namespaces.get(i));
  }

  /** From now on, packets between hosts {@code a} and {@code b} are dropped, both ways. */
  public void partition(int a, int b) throws Exception {
    run(List.of("ip", "netns", "exec", namespaces.get(a), "ip", "route", "add", "blackhole", address(b) + "/32"));
    run(List.of("ip", "netns", "exec", namespaces.get(b), "ip", "route", "add", "blackhole", address(a) + "/32"));
  }

  /** Undoes {@link #partition(int, int)}. */
  public void heal(int a, int b) throws Exception {
    run(List.of("ip", "netns", "exec", namespaces.get(a), "ip", "route", "del", "blackhole", address(b) + "/32"));
    run(List.of("ip", "netns", "exec", namespaces.get(b), "ip", "route", "del", "blackhole", address(a) + "/32"));
  }

  /** Deletes the namespaces (their veth pairs go with them) and the bridge. */
  @Override
  public void close() throws Exception {
    Exception first = null;
    for (String ns : namespaces) {
      try {
        run(List.of("ip", "netns", "del", ns));
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    namespaces.clear();
    if (bridgeCreated) {
      try {
        run(List.of("ip", "link", "del", "gwb" + id));
        bridgeCreated = false;
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": timed out");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.trim());
    }
    return out;
  }
}
