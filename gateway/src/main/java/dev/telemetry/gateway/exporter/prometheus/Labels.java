package dev.telemetry.gateway.exporter.prometheus;

import dev.telemetry.proto.prometheus.Label;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable, name-sorted label set: the identity of a Prometheus series (it includes {@code __name__}). Used as
 * a hash key for merging samples of one series and for delta-to-cumulative state, so equality and hashing are
 * precomputed over the sorted pairs.
 */
final class Labels {
  private final String[] pairs; // name0, value0, name1, value1, ... sorted by name
  private final int hash;

  private Labels(String[] pairs) {
    this.pairs = pairs;
    this.hash = Arrays.hashCode(pairs);
  }

  String get(String name) {
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i].equals(name)) {
        return pairs[i + 1];
      }
    }
    return null;
  }

  String metricName() {
    return get("__name__");
  }

  List<Label> toProto() {
    List<Label> out = new ArrayList<>(pairs.length / 2);
    for (int i = 0; i < pairs.length; i += 2) {
      out.add(Label.newBuilder().setName(pairs[i]).setValue(pairs[i + 1]).build());
    }
    return out;
  }

  int shard(int shards) {
    return Math.floorMod(hash * 0x9E3779B9, shards);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Labels l && l.hash == hash && Arrays.equals(l.pairs, pairs);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(String.valueOf(metricName())).append('{');
    for (int i = 0; i < pairs.length; i += 2) {
      if (!pairs[i].equals("__name__")) {
        if (b.charAt(b.length() - 1) != '{') {
          b.append(',');
        }
        b.append(pairs[i]).append("=\"").append(pairs[i + 1]).append('"');
      }
    }
    return b.append('}').toString();
  }

  /** Collects labels; later {@link #set} wins, {@link #setIfAbsent} does not, {@link #merge} joins with ";". */
  static final class Builder {
    private final TreeMap<String, String> map = new TreeMap<>();

    Builder() {
    }

    Builder(Builder other) {
      map.putAll(other.map);
    }

    Builder set(String name, String value) {
      map.put(name, value);
      return this;
    }

    Builder setIfAbsent(String name, String value) {
      map.putIfAbsent(name, value);
      return this;
    }

    /** Two attributes whose names sanitize alike keep both values, joined by ";" (spec). */
    Builder merge(String name, String value) {
      map.merge(name, value, (a, b) -> a + ";" + b);
      return this;
    }

    Builder setAll(Map<String, String> labels) {
      map.putAll(labels);
      return this;
    }

    boolean has(String name) {
      return map.containsKey(name);
    }

    int size() {
      return map.size();
    }

    Labels build() {
      String[] pairs = new String[map.size() * 2];
      int i = 0;
      for (Map.Entry<String, String> e : map.entrySet()) {
        pairs[i++] = e.getKey();
        pairs[i++] = e.getValue();
      }
      return new Labels(pairs);
    }
  }
}
