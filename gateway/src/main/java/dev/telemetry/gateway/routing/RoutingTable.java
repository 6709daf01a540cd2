package dev.telemetry.gateway.routing;

import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.JsonObject;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A validated routing table: ordered rules, per-signal default routes and the tenant source. {@code source} is the
 * JSON it was read from (returned by the admin API and kept in the version history).
 */
public record RoutingTable(TenantSource tenant, List<Rule> rules, Map<Signal, Action> defaults, JsonObject source) {
  /** No rules: everything takes its pipeline's exporters, as without a routing table. */
  public static final RoutingTable EMPTY = new RoutingTable(TenantSource.NONE, List.of(), Map.of(),
      new JsonObject().put("rules", new io.vertx.core.json.JsonArray()));

  public RoutingTable {
    rules = List.copyOf(rules);
    Map<Signal, Action> d = new EnumMap<>(Signal.class);
    d.putAll(defaults);
    defaults = java.util.Collections.unmodifiableMap(d);
    source = source.copy();
  }

  /** The default route of a signal: the table's, else the pipeline's exporters and processors. */
  public Route defaultRoute(Signal signal) {
    return new Route(Route.DEFAULT_ID, defaults.getOrDefault(signal, Action.PIPELINE_DEFAULT));
  }
}
