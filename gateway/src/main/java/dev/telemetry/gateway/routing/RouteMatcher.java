package dev.telemetry.gateway.routing;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A routing table compiled for matching: splits a request into one part per route its items take. Immutable and
 * thread-safe; a table swap compiles a new matcher and requests in flight finish on the one they started with.
 *
 * <p>Cost is kept flat as tables grow in two ways. Rules are indexed by the condition most of them test with
 * {@code equals}/{@code in} on the same resource attribute (or the tenant), so an item only evaluates the rules
 * that can match its value plus the unindexed ones. And each rule is evaluated at the outermost level it looks at:
 * rules about the resource are decided once per resource, and a resource (or scope) whose route is settled there is
 * passed on without being taken apart or copied.
 */
public final class RouteMatcher {
  /** Build an index only when it spares at least this many rule evaluations for a non-matching value. */
  private static final int MIN_INDEXED_RULES = 4;

  private final RoutingTable table;
  private final Rule[] rules;
  private final Route[] routes;
  private final Subject.Level[] levels;
  private final Map<Signal, Route> defaults = new EnumMap<>(Signal.class);
  private final Map<Signal, Candidates> candidates = new EnumMap<>(Signal.class);
  private final Map<Signal, Map<Route, Counter>> routed = new EnumMap<>(Signal.class);
  private final Map<Signal, Map<Route, Counter>> dropped = new EnumMap<>(Signal.class);

  /** One destination's share of a request; {@code request} is null for a dropping route. */
  public record Part(Route route, Message request, int items) {
  }

  public RouteMatcher(RoutingTable table, MeterRegistry registry) {
    this.table = table;
    this.rules = table.rules().toArray(new Rule[0]);
    this.routes = new Route[rules.length];
    this.levels = new Subject.Level[rules.length];
    for (int i = 0; i < rules.length; i++) {
      routes[i] = new Route(rules[i].id(), rules[i].action());
      levels[i] = rules[i].match().level();
    }
    for (Signal s : Signal.values()) {
      defaults.put(s, table.defaultRoute(s));
      candidates.put(s, index(s));
      Map<Route, Counter> r = new IdentityHashMap<>();
      Map<Route, Counter> d = new IdentityHashMap<>();
      for (Route route : routesFor(s)) {
        if (route.action().drop()) {
          d.put(route, Counter.builder("gateway.routing.dropped.items").description("Items dropped by a routing "
              + "rule").tag("signal", s.id()).tag("rule", route.ruleId()).register(registry));
        } else {
          r.put(route, Counter.builder("gateway.routing.items").description("Items routed, by the rule that routed "
              + "them (\"default\" when none matched)").tag("signal", s.id()).tag("rule", route.ruleId())
              .register(registry));
        }
      }
      routed.put(s, r);
      dropped.put(s, d);
    }
  }

  public RoutingTable table() {
    return table;
  }

  /** The routes items of a signal can take: the rules whose signal conditions allow it, and the default. */
  private List<Route> routesFor(Signal s) {
    List<Route> all = new ArrayList<>();
    for (int i : candidates.get(s).all()) {
      all.add(routes[i]);
    }
    all.add(defaults.get(s));
    return all;
  }

  // ---------------------------------------------------------------- index

  /** The rules a signal can match, indexed by the best resource attribute (or the tenant) when that pays. */
  private Candidates index(Signal signal) {
    List<Integer> applicable = new ArrayList<>();
    MatchContext probe = new MatchContext();
    probe.signal = signal;
    for (int i = 0; i < rules.length; i++) {
      boolean possible = true;
      for (Match c : Match.conjuncts(rules[i].match())) {
        if (c instanceof Match.Test t && t.subject() == Subject.SIGNAL && !probe.eval(t)) {
          possible = false;
        }
      }
      if (possible) {
        applicable.add(i);
      }
    }
    int[] all = applicable.stream().mapToInt(Integer::intValue).toArray();
    // Count, per (subject, key), the rules pinned to a value set by a top-level equals/in.
    Map<String, Integer> counts = new TreeMap<>();
    for (int i : all) {
      for (String k : pinnedKeys(rules[i].match())) {
        counts.merge(k, 1, Integer::sum);
      }
    }
    String best = null;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() >= MIN_INDEXED_RULES && (best == null || e.getValue() > counts.get(best))) {
        best = e.getKey();
      }
    }
    if (best == null) {
      return new Candidates(all, null, null, Map.of(), all);
    }
    Subject subject = best.startsWith("r:") ? Subject.RESOURCE : Subject.TENANT;
    String key = subject == Subject.RESOURCE ? best.substring(2) : null;
    Map<String, List<Integer>> byValue = new HashMap<>();
    List<Integer> unindexed = new ArrayList<>();
    for (int i : all) {
      java.util.Set<String> values = pinnedValues(rules[i].match(), subject, key);
      if (values == null) {
        unindexed.add(i);
      } else {
        values.forEach(v -> byValue.computeIfAbsent(v, x -> new ArrayList<>()).add(i));
      }
    }
    Map<String, int[]> merged = new HashMap<>();
    byValue.forEach((v, rs) -> {
      List<Integer> m = new ArrayList<>(rs);
      m.addAll(unindexed);
      merged.put(v, m.stream().mapToInt(Integer::intValue).sorted().toArray());
    });
    return new Candidates(all, subject, key, merged, unindexed.stream().mapToInt(Integer::intValue).toArray());
  }

  private static List<String> pinnedKeys(Match m) {
    List<String> out = new ArrayList<>();
    for (Match c : Match.conjuncts(m)) {
      if (c instanceof Match.Test t && (t.op() instanceof Operator.Equals || t.op() instanceof Operator.In)) {
        if (t.subject() == Subject.RESOURCE) {
          out.add("r:" + t.key());
        } else if (t.subject() == Subject.TENANT) {
          out.add("t:");
        }
      }
    }
    return out;
  }

  /** The values a rule is pinned to on (subject, key), or null when it is not pinned there. */
  private static java.util.Set<String> pinnedValues(Match m, Subject subject, String key) {
    for (Match c : Match.conjuncts(m)) {
      if (c instanceof Match.Test t && t.subject() == subject && java.util.Objects.equals(t.key(), key)) {
        if (t.op() instanceof Operator.Equals e) {
          return java.util.Set.of(e.value());
        }
        if (t.op() instanceof Operator.In in) {
          return in.values();
        }
      }
    }
    return null;
  }

  private record Candidates(int[] all, Subject subject, String key, Map<String, int[]> byValue, int[] unindexed) {
    int[] lookup(MatchContext c) {
      if (subject == null) {
        return all;
      }
      String v = c.value(subject, key);
      int[] r = v == null ? null : byValue.get(v);
      return r == null ? unindexed : r;
    }
  }

  // ---------------------------------------------------------------- routing

  /**
   * Splits a request by route. {@code headerTenant} is the tenant header's value (null when absent or when the table
   * takes no tenant header). Counts routed and dropped items.
   */
  public List<Part> route(Signal signal, Message request, int items, String headerTenant) {
    Candidates cands = candidates.get(signal);
    MatchContext c = new MatchContext();
    c.signal = signal;
    Acc acc = new Acc();
    Map<Route, PartBuilder> parts = new IdentityHashMap<>(4);
    List<? extends Message> resources = signal.resources(request);
    Route lastSingle = null;
    boolean single = true;
    for (Message rx : resources) {
      c.resource = OtlpShape.resourceAttributes(rx);
      c.tenant = tenant(headerTenant, c.resource);
      c.scope = io.opentelemetry.proto.common.v1.InstrumentationScope.getDefaultInstance();
      c.item = null;
      int[] cand = cands.lookup(c);
      acc.clear();
      int pos = walk(cand, null, 0, Subject.Level.RESOURCE, c, acc);
      if (pos == cand.length) {
        finish(signal, acc);
        for (int k = 0; k < acc.size; k++) {
          part(parts, acc.routes[k]).addResource(rx);
        }
        if (single && acc.size == 1 && (lastSingle == null || lastSingle == acc.routes[0])) {
          lastSingle = acc.routes[0];
        } else {
          single = false;
        }
        continue;
      }
      single = false;
      int resourceMark = acc.size;
      boolean resourceTerminal = acc.terminal;
      // The rest must be decided deeper; settle its resource-level rules now, once for all items of this resource.
      Remaining rest = remaining(cand, pos, c);
      for (Message sx : OtlpShape.scopes(rx)) {
        c.scope = OtlpShape.scope(sx);
        c.item = null;
        acc.truncate(resourceMark, resourceTerminal);
        int spos = walk(rest.rules, rest.known, 0, Subject.Level.SCOPE, c, acc);
        if (spos == rest.rules.length) {
          finish(signal, acc);
          for (int k = 0; k < acc.size; k++) {
            part(parts, acc.routes[k]).addScope(rx, sx);
          }
          continue;
        }
        int scopeMark = acc.size;
        boolean scopeTerminal = acc.terminal;
        for (Message item : OtlpShape.items(sx)) {
          c.item = item;
          acc.truncate(scopeMark, scopeTerminal);
          walk(rest.rules, rest.known, spos, Subject.Level.ITEM, c, acc);
          finish(signal, acc);
          for (int k = 0; k < acc.size; k++) {
            part(parts, acc.routes[k]).addItem(rx, sx, item);
          }
        }
      }
    }
    if (resources.isEmpty()) {
      return List.of();
    }
    List<Part> out = new ArrayList<>(parts.size());
    Map<Route, Counter> routedCounters = routed.get(signal);
    Map<Route, Counter> droppedCounters = dropped.get(signal);
    for (PartBuilder pb : parts.values()) {
      Part p = single ? new Part(pb.route, pb.route.action().drop() ? null : request, items)
          : pb.build(signal, request);
      Counter counter = p.route().action().drop() ? droppedCounters.get(p.route()) : routedCounters.get(p.route());
      if (counter != null) {
        counter.increment(p.items());
      }
      out.add(p);
    }
    return out;
  }

  /**
   * The routes of one item, evaluating every rule in order without index or shortcuts: what {@code explain}
   * reports, and the reference the fast path is tested against.
   */
  public List<Route> decide(Signal signal, String headerTenant, Message rx, Message sx, Message item) {
    MatchContext c = new MatchContext();
    c.signal = signal;
    c.resource = OtlpShape.resourceAttributes(rx);
    c.tenant = tenant(headerTenant, c.resource);
    c.scope = OtlpShape.scope(sx);
    c.item = item;
    List<Route> out = new ArrayList<>();
    for (int i = 0; i < rules.length; i++) {
      if (c.eval(rules[i].match())) {
        out.add(routes[i]);
        if (!rules[i].cont()) {
          return out;
        }
      }
    }
    out.add(defaults.get(signal));
    return out;
  }

  /** The tenant of items under a resource: the header, else the resource attribute, else the table's default. */
  public String tenant(String headerTenant, List<io.opentelemetry.proto.common.v1.KeyValue> resource) {
    if (headerTenant != null && !headerTenant.isEmpty()) {
      return headerTenant;
    }
    TenantSource ts = table.tenant();
    if (ts.attribute() != null) {
      String v = MatchContext.attribute(resource, ts.attribute());
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return ts.fallback();
  }

  /**
   * Evaluates candidates from {@code pos} while their level allows; returns where it stopped (length = decided).
   * {@code known[k]} (may be null) marks candidates already known to match.
   */
  private int walk(int[] cand, boolean[] known, int pos, Subject.Level level, MatchContext c, Acc acc) {
    if (acc.terminal) {
      return cand.length;
    }
    while (pos < cand.length) {
      int i = cand[pos];
      if (levels[i].compareTo(level) > 0) {
        return pos;
      }
      if ((known != null && known[pos]) || c.eval(rules[i].match())) {
        acc.add(routes[i]);
        if (!rules[i].cont()) {
          acc.terminal = true;
          return cand.length;
        }
      }
      pos++;
    }
    return pos;
  }

  /** Candidates left after {@code pos}, whose resource-level rules are decided now: failing ones are left out. */
  private Remaining remaining(int[] cand, int pos, MatchContext c) {
    int[] out = new int[cand.length - pos];
    boolean[] known = new boolean[out.length];
    int n = 0;
    for (int k = pos; k < cand.length; k++) {
      int i = cand[k];
      if (levels[i].compareTo(Subject.Level.RESOURCE) > 0) {
        out[n++] = i;
      } else if (c.eval(rules[i].match())) {
        known[n] = true;
        out[n++] = i;
      }
    }
    return new Remaining(Arrays.copyOf(out, n), known);
  }

  private record Remaining(int[] rules, boolean[] known) {
  }

  /** Adds the default route unless a rule that does not continue matched. */
  private void finish(Signal signal, Acc acc) {
    if (!acc.terminal) {
      acc.add(defaults.get(signal));
      acc.terminal = true;
    }
  }

  private static PartBuilder part(Map<Route, PartBuilder> parts, Route r) {
    PartBuilder pb = parts.get(r);
    if (pb == null) {
      pb = new PartBuilder(r);
      parts.put(r, pb);
    }
    return pb;
  }

  /** The routes matched so far on the way down a request (a small stack, truncated when the walk backs up). */
  private static final class Acc {
    Route[] routes = new Route[4];
    int size;
    boolean terminal;

    void add(Route r) {
      if (size == routes.length) {
        routes = Arrays.copyOf(routes, size * 2);
      }
      routes[size++] = r;
    }

    void clear() {
      size = 0;
      terminal = false;
    }

    void truncate(int mark, boolean wasTerminal) {
      size = mark;
      terminal = wasTerminal;
    }
  }

  /**
   * Collects one route's share. Reuses the original resource and scope entries when a route takes them whole, so
   * only what is really split is copied; a dropping route only counts.
   */
  private static final class PartBuilder {
    final Route route;
    final boolean countOnly;
    final List<Message> resources = new ArrayList<>();
    int items;
    Message rx;
    List<Message> scopes;
    Message sx;
    List<Message> scopeItems;

    PartBuilder(Route route) {
      this.route = route;
      this.countOnly = route.action().drop();
    }

    void addResource(Message r) {
      closeResource();
      for (Message s : OtlpShape.scopes(r)) {
        items += weightOfScope(s);
      }
      if (!countOnly) {
        resources.add(r);
      }
    }

    void addScope(Message r, Message s) {
      items += weightOfScope(s);
      if (countOnly) {
        return;
      }
      enter(r);
      closeScope();
      scopes.add(s);
    }

    void addItem(Message r, Message s, Message item) {
      items += OtlpShape.weight(item);
      if (countOnly) {
        return;
      }
      enter(r);
      if (sx != s) {
        closeScope();
        sx = s;
        scopeItems = new ArrayList<>();
      }
      scopeItems.add(item);
    }

    private void enter(Message r) {
      if (rx != r) {
        closeResource();
        rx = r;
        scopes = new ArrayList<>();
      }
    }

    private void closeScope() {
      if (sx != null) {
        scopes.add(scopeItems.size() == OtlpShape.items(sx).size() ? sx : OtlpShape.withItems(sx, scopeItems));
        sx = null;
        scopeItems = null;
      }
    }

    private void closeResource() {
      closeScope();
      if (rx != null) {
        List<? extends Message> original = OtlpShape.scopes(rx);
        boolean whole = original.size() == scopes.size();
        for (int i = 0; whole && i < scopes.size(); i++) {
          whole = original.get(i) == scopes.get(i);
        }
        resources.add(whole ? rx : OtlpShape.withScopes(rx, scopes));
        rx = null;
        scopes = null;
      }
    }

    Part build(Signal signal, Message original) {
      if (countOnly) {
        return new Part(route, null, items);
      }
      closeResource();
      List<? extends Message> all = signal.resources(original);
      boolean whole = all.size() == resources.size();
      for (int i = 0; whole && i < all.size(); i++) {
        whole = all.get(i) == resources.get(i);
      }
      return new Part(route, whole ? original : signal.requestOf(resources), items);
    }

    private static int weightOfScope(Message s) {
      int n = 0;
      for (Message item : OtlpShape.items(s)) {
        n += OtlpShape.weight(item);
      }
      return n;
    }
  }
}
