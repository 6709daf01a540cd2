package dev.telemetry.gateway.analytics.anomaly;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the metrics pipeline said per group and step, before it is judged: for each group (a stream, what it counts,
 * and its labels) the cells of each recent step — calls and errors, histogram buckets, a counter's increase, a
 * gauge's value. In a cluster each member shares its own cells of the last {@value #SHARED_STEPS} steps and books
 * only the change in what another member said, so every member holds the cluster's totals (gauges: the largest
 * value). Bounded: steps older than {@value #KEPT_STEPS} are dropped, and at most {@code maxGroups} groups are
 * kept. Thread-safe (one lock).
 */
final class SeriesBook {
  static final int SHARED_STEPS = 6;
  static final int KEPT_STEPS = 64;

  /** How a group's cells combine: summed (counts) or the largest (a gauge). */
  enum Merge { SUM, MAX }

  /** One group: its identity, labels, how it merges, and its cells per step. */
  static final class Group {
    final String key;
    final String stream;
    final String what;
    final Map<String, String> labels;
    final Merge merge;
    /** Histogram bounds of the duration cells (null for others). */
    double[] bounds;
    final TreeMap<Long, double[]> steps = new TreeMap<>();
    long lastData = Long.MIN_VALUE;

    Group(String key, String stream, String what, Map<String, String> labels, Merge merge) {
      this.key = key;
      this.stream = stream;
      this.what = what;
      this.labels = Map.copyOf(labels);
      this.merge = merge;
    }
  }

  private final int maxGroups;
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final Map<String, TreeMap<Long, double[]>> own = new HashMap<>();
  private final Map<String, Map<String, TreeMap<Long, double[]>>> remote = new HashMap<>();
  private long overflow;

  SeriesBook(int maxGroups) {
    this.maxGroups = maxGroups;
  }

  static String key(String stream, String what, Map<String, String> labels) {
    return stream + '\u0001' + what + '\u0001' + new java.util.TreeMap<>(labels);
  }

  /** Adds this member's cells for {@code step}; false when the group is new and the book is full. */
  synchronized boolean add(String stream, String what, Map<String, String> labels, Merge merge, double[] bounds,
                           long step, double[] cells) {
    String key = key(stream, what, labels);
    Group g = group(key, stream, what, labels, merge);
    if (g == null) {
      overflow++;
      return false;
    }
    if (bounds != null && (g.bounds == null || !java.util.Arrays.equals(g.bounds, bounds))) {
      g.bounds = bounds.clone(); // new bucket layout: older steps are not comparable
      g.steps.clear();
      own.remove(key);
    }
    book(g.steps, step, cells, merge);
    book(own.computeIfAbsent(key, k -> new TreeMap<>()), step, cells, merge);
    g.lastData = Math.max(g.lastData, step);
    return true;
  }

  private Group group(String key, String stream, String what, Map<String, String> labels, Merge merge) {
    Group g = groups.get(key);
    if (g == null) {
      if (groups.size() >= maxGroups) {
        return null;
      }
      g = new Group(key, stream, what, labels, merge);
      groups.put(key, g);
    }
    return g;
  }

  private static void book(TreeMap<Long, double[]> steps, long step, double[] cells, Merge merge) {
    double[] c = steps.get(step);
    if (c == null || c.length != cells.length) {
      steps.put(step, cells.clone());
      return;
    }
    for (int i = 0; i < cells.length; i++) {
      c[i] = merge == Merge.SUM ? c[i] + cells[i] : Math.max(c[i], cells[i]);
    }
  }

  /** The groups (a snapshot of the list; cells are read under {@link #cells}). */
  synchronized java.util.List<Group> groups() {
    return java.util.List.copyOf(groups.values());
  }

  /** The cells of a group's step (a copy), or null when nothing was said for it. */
  synchronized double[] cells(Group g, long step) {
    double[] c = g.steps.get(step);
    return c == null ? null : c.clone();
  }

  /** A group known from the state file (no cells yet); null when the book is full. */
  synchronized Group restoreGroup(String stream, String what, Map<String, String> labels, Merge merge,
                                  long nowStep) {
    Group g = group(key(stream, what, labels), stream, what, labels, merge);
    if (g != null && g.lastData == Long.MIN_VALUE) {
      g.lastData = nowStep; // kept until it expires like any other
    }
    return g;
  }

  /** The first step a group has cells for, or null. */
  synchronized Long firstStep(Group g) {
    return g.steps.isEmpty() ? null : g.steps.firstKey();
  }

  /** Forgets steps before {@code oldest} and groups silent since {@code expiredBefore}. */
  synchronized void trim(long oldest, long expiredBefore) {
    groups.values().removeIf(g -> {
      g.steps.headMap(oldest).clear();
      boolean gone = g.lastData < expiredBefore;
      if (gone) {
        own.remove(g.key);
      }
      return gone;
    });
    own.values().forEach(s -> s.headMap(oldest).clear());
    remote.values().forEach(m -> m.values().forEach(s -> s.headMap(oldest).clear()));
  }

  synchronized long overflow() {
    return overflow;
  }

  synchronized int size() {
    return groups.size();
  }

  /** This member's own cells of the last steps, for the other members: [{key, stream, what, labels, merge, ...}]. */
  synchronized JsonArray shared(long newestStep) {
    JsonArray out = new JsonArray();
    own.forEach((key, steps) -> {
      Group g = groups.get(key);
      if (g == null) {
        return;
      }
      JsonArray s = new JsonArray();
      steps.tailMap(newestStep - SHARED_STEPS, true).forEach((step, cells) -> {
        JsonArray c = new JsonArray().add(step);
        for (double d : cells) {
          c.add(d);
        }
        s.add(c);
      });
      if (s.isEmpty()) {
        return;
      }
      JsonObject labels = new JsonObject();
      g.labels.forEach(labels::put);
      JsonArray bounds = new JsonArray();
      if (g.bounds != null) {
        for (double b : g.bounds) {
          bounds.add(b);
        }
      }
      out.add(new JsonObject().put("stream", g.stream).put("what", g.what).put("labels", labels)
          .put("merge", g.merge.name()).put("bounds", g.bounds == null ? null : bounds).put("steps", s));
    });
    return out;
  }

  /** Books what another member shared: only the change since its last message. */
  synchronized void merge(String member, JsonArray shared, long oldestStep) {
    Map<String, TreeMap<Long, double[]>> seen = remote.computeIfAbsent(member, k -> new HashMap<>());
    for (Object o : shared) {
      JsonObject e = (JsonObject) o;
      Map<String, String> labels = new HashMap<>();
      e.getJsonObject("labels").forEach(x -> labels.put(x.getKey(), String.valueOf(x.getValue())));
      Merge merge = Merge.valueOf(e.getString("merge"));
      String key = key(e.getString("stream"), e.getString("what"), labels);
      Group g = group(key, e.getString("stream"), e.getString("what"), labels, merge);
      if (g == null) {
        overflow++;
        continue;
      }
      JsonArray b = e.getJsonArray("bounds");
      if (b != null) {
        double[] bounds = new double[b.size()];
        for (int i = 0; i < bounds.length; i++) {
          bounds[i] = b.getDouble(i);
        }
        if (g.bounds == null || !java.util.Arrays.equals(g.bounds, bounds)) {
          if (g.bounds != null) {
            continue; // members disagree on the layout: keep ours
          }
          g.bounds = bounds;
        }
      }
      TreeMap<Long, double[]> last = seen.computeIfAbsent(key, k -> new TreeMap<>());
      for (Object so : e.getJsonArray("steps")) {
        JsonArray s = (JsonArray) so;
        long step = s.getLong(0);
        if (step < oldestStep) {
          continue;
        }
        double[] cells = new double[s.size() - 1];
        for (int i = 0; i < cells.length; i++) {
          cells[i] = s.getDouble(i + 1);
        }
        if (merge == Merge.MAX) {
          book(g.steps, step, cells, merge);
        } else {
          double[] before = last.get(step);
          double[] change = cells.clone();
          if (before != null && before.length == cells.length) {
            for (int i = 0; i < cells.length; i++) {
              change[i] -= before[i];
            }
          }
          book(g.steps, step, change, merge);
        }
        last.put(step, cells);
        g.lastData = Math.max(g.lastData, step);
      }
    }
  }
}
