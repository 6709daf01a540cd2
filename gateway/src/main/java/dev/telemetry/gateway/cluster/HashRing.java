package dev.telemetry.gateway.cluster;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A consistent-hash ring over member IDs with {@code virtualNodes} points per member: the owner of a trace ID is the
 * member of the first point at or after the trace's hash. Every member computes the same ring from the same member
 * set, so they agree on owners without talking; adding or removing a member moves only about 1/N of the traces.
 * Immutable; lookups are a binary search over a sorted {@code long[]}.
 */
public final class HashRing {
  private final List<String> members;
  private final long[] points;
  private final String[] owners;

  public HashRing(java.util.Collection<String> members, int virtualNodes) {
    this.members = members.stream().sorted().distinct().toList();
    TreeMap<Long, String> ring = new TreeMap<>();
    for (String m : this.members) {
      for (int i = 0; i < virtualNodes; i++) {
        // On the rare collision the smaller ID wins, whatever the order members were added in.
        ring.merge(mix(fnv1a(m + "#" + i)), m, (a, b) -> a.compareTo(b) <= 0 ? a : b);
      }
    }
    points = new long[ring.size()];
    owners = new String[ring.size()];
    int i = 0;
    for (Map.Entry<Long, String> e : ring.entrySet()) {
      points[i] = e.getKey();
      owners[i++] = e.getValue();
    }
  }

  public List<String> members() {
    return members;
  }

  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** The member owning this trace ID; null on an empty ring. */
  public String owner(ByteString traceId) {
    return points.length == 0 ? null : ownerOf(hash(traceId));
  }

  /**
   * The owner's successors for this trace ID: the next {@code n} distinct members clockwise after the owner's point
   * (fewer when the ring is smaller). They hold its replicas; removing the owner makes the first of them the owner,
   * so a replica is already where the trace goes next.
   */
  public List<String> successors(ByteString traceId, int n) {
    if (n <= 0 || members.size() < 2) {
      return List.of();
    }
    int want = Math.min(n, members.size() - 1);
    int at = index(hash(traceId));
    String owner = owners[at];
    String[] out = new String[want];
    int found = 0;
    for (int k = 1; k < points.length && found < want; k++) {
      String m = owners[(at + k) % points.length];
      if (m.equals(owner)) {
        continue;
      }
      boolean seen = false;
      for (int j = 0; j < found && !seen; j++) {
        seen = out[j].equals(m);
      }
      if (!seen) {
        out[found++] = m;
      }
    }
    return found == want ? List.of(out) : List.of(java.util.Arrays.copyOf(out, found));
  }

  private int index(long hash) {
    int at = Arrays.binarySearch(points, hash);
    if (at < 0) {
      at = -at - 1;
    }
    return at == points.length ? 0 : at;
  }

  String ownerOf(long hash) {
    return owners[index(hash)];
  }

  /** The fraction of the hash space {@code member} owns (0 when not on the ring). */
  public double share(String member) {
    if (points.length == 0) {
      return 0;
    }
    if (points.length == 1) {
      return owners[0].equals(member) ? 1.0 : 0;
    }
    // Point i owns (points[i-1], points[i]]; point 0 wraps around from the last one. The 64-bit difference, read
    // unsigned, is the arc length in both cases.
    double owned = 0;
    for (int i = 0; i < points.length; i++) {
      if (owners[i].equals(member)) {
        owned += unsigned(points[i] - points[i == 0 ? points.length - 1 : i - 1]);
      }
    }
    return owned / 0x1p64;
  }

  private static double unsigned(long v) {
    return v >= 0 ? v : 0x1p64 + v;
  }

  /**
   * The ring position of a trace ID. W3C trace IDs are random, but some SDKs put a timestamp in the high bytes
   * (e.g. X-Ray): mixing all 16 bytes keeps those spread too. Points and hashes are compared as signed longs, which
   * is just a rotation of the ring.
   */
  static long hash(ByteString traceId) {
    long h = 0x9E3779B97F4A7C15L;
    int n = traceId.size();
    for (int i = 0; i < n; i++) {
      h = (h ^ (traceId.byteAt(i) & 0xff)) * 0x100000001B3L;
    }
    return mix(h);
  }

  private static long fnv1a(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h;
  }

  /** The 64-bit finalizer of SplitMix64: spreads nearby inputs over the whole range. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override
  public String toString() {
    return "HashRing" + members;
  }
}
