package dev.telemetry.gateway.routing;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.OtlpJsonException;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.Processor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers "where would this data go?" for an OTLP/JSON payload: per item, the rules that matched, each route's
 * exporters, Elasticsearch target, sampling policy set, and what its redaction profile would change. Runs the
 * pipeline's own processors first, exactly as the live path does, and sends nothing.
 */
public final class Explainer {
  private final RouteTables tables;
  private final Map<Signal, List<Processor>> pipelineProcessors;
  private final Map<String, Processor> redactionProfiles;
  private final Map<Signal, String> pipelineSamplers;

  public Explainer(RouteTables tables, Map<Signal, List<Processor>> pipelineProcessors,
                   Map<String, Processor> redactionProfiles, Map<Signal, String> pipelineSamplers) {
    this.tables = tables;
    this.pipelineProcessors = Map.copyOf(pipelineProcessors);
    this.redactionProfiles = Map.copyOf(redactionProfiles);
    this.pipelineSamplers = Map.copyOf(pipelineSamplers);
  }

  /**
   * {@code body} is an OTLP/JSON export request, or {@code {"payload": ..., "tenant": ..., "routes": ...}} to give
   * the tenant explicitly or explain against a candidate table instead of the live one.
   *
   * @throws IllegalArgumentException when the body is not a usable payload (the message says why)
   * @throws RoutingTableException when a candidate table is invalid
   */
  public JsonObject explain(JsonObject body, String headerTenant) throws RoutingTableException {
    JsonObject payload = body;
    String tenant = headerTenant;
    RouteMatcher matcher = tables.current();
    String version = tables.currentVersion() == null ? "none" : String.valueOf(tables.currentVersion().number());
    if (body.containsKey("payload")) {
      if (!(body.getValue("payload") instanceof JsonObject p)) {
        throw new IllegalArgumentException("payload: expected an OTLP/JSON export request object");
      }
      payload = p;
      if (body.getValue("tenant") instanceof String t) {
        tenant = t;
      }
      if (body.getValue("routes") instanceof JsonObject candidate) {
        matcher = new RouteMatcher(RoutingTableParser.parse(candidate, tables.catalog()), new SimpleMeterRegistry());
        version = "candidate";
      }
    }
    if (matcher == null) {
      throw new IllegalArgumentException("no routing table is loaded");
    }
    Signal signal = signalOf(payload);
    Message request;
    try {
      request = OtlpJson.parse(payload.encode().getBytes(StandardCharsets.UTF_8), signal.newRequestBuilder());
    } catch (OtlpJsonException e) {
      throw new IllegalArgumentException("payload is not valid OTLP/JSON: " + e.getMessage());
    }
    for (Processor p : pipelineProcessors.getOrDefault(signal, List.of())) {
      request = p.process(signal, request);
    }
    String prefix = switch (signal) {
      case TRACES -> "resourceSpans[%d].scopeSpans[%d].spans[%d]";
      case METRICS -> "resourceMetrics[%d].scopeMetrics[%d].metrics[%d]";
      case LOGS -> "resourceLogs[%d].scopeLogs[%d].logRecords[%d]";
    };
    JsonArray items = new JsonArray();
    Map<String, Integer> byRule = new LinkedHashMap<>();
    int dropped = 0;
    List<? extends Message> resources = signal.resources(request);
    for (int r = 0; r < resources.size(); r++) {
      Message rx = resources.get(r);
      List<? extends Message> scopes = OtlpShape.scopes(rx);
      for (int s = 0; s < scopes.size(); s++) {
        Message sx = scopes.get(s);
        List<? extends Message> list = OtlpShape.items(sx);
        for (int i = 0; i < list.size(); i++) {
          Message item = list.get(i);
          List<Route> routes = matcher.decide(signal, tenant, rx, sx, item);
          JsonArray described = new JsonArray();
          boolean drop = false;
          for (Route route : routes) {
            byRule.merge(route.ruleId(), 1, Integer::sum);
            drop |= route.action().drop();
            described.add(describe(signal, route, rx, sx, item));
          }
          dropped += drop ? 1 : 0;
          items.add(new JsonObject()
              .put("item", String.format(prefix, r, s, i))
              .put("service", MatchContext.attribute(OtlpShape.resourceAttributes(rx), "service.name"))
              .put("name", name(item))
              .put("tenant", matcher.tenant(tenant, OtlpShape.resourceAttributes(rx)))
              .put("matched", new JsonArray(routes.stream().map(Route::ruleId).toList()))
              .put("dropped", drop)
              .put("routes", described));
        }
      }
    }
    return new JsonObject().put("table_version", version).put("signal", signal.id()).put("items", items)
        .put("summary", new JsonObject().put("items", items.size()).put("dropped", dropped)
            .put("by_rule", new JsonObject(new LinkedHashMap<>(byRule))));
  }

  private JsonObject describe(Signal signal, Route route, Message rx, Message sx, Message item) {
    Action a = route.action();
    JsonObject out = new JsonObject().put("rule", route.ruleId());
    if (a.drop()) {
      return out.put("drop", true);
    }
    out.put("exporters", new JsonArray(a.exporters() != null ? a.exporters()
        : tables.catalog().pipelineExporters().getOrDefault(signal, List.of())));
    if (a.elasticsearch() != null && signal == Signal.LOGS) {
      Action.ElasticsearchTarget t = a.elasticsearch();
      out.put("elasticsearch", t.index() != null ? new JsonObject().put("index", t.index())
          : new JsonObject().put("dataset", t.dataset()).put("namespace", t.namespace()));
    }
    if (signal == Signal.TRACES) {
      String sampling = a.sampling() != null ? a.sampling() : pipelineSamplers.get(signal);
      out.put("sampling", sampling == null ? "none (every span is exported)"
          : sampling + " (kept or dropped per whole trace after its decision wait)");
    }
    if (a.redaction() != null) {
      Processor p = redactionProfiles.get(a.redaction());
      Message single = signal.requestOf(List.of(OtlpShape.withScopes(rx,
          List.of(OtlpShape.withItems(sx, List.of(item))))));
      Message redacted = p.process(signal, single);
      Message rx2 = signal.resources(redacted).get(0);
      Message item2 = OtlpShape.items(OtlpShape.scopes(rx2).get(0)).get(0);
      JsonArray changes = MessageDiff.changes(item, item2);
      // Fields of the resource entry come out as "resource.attributes[...]" already.
      changes.addAll(MessageDiff.changes(rx, OtlpShape.withScopes(rx2, OtlpShape.scopes(rx))));
      out.put("redaction", new JsonObject().put("profile", a.redaction()).put("changes", changes));
    }
    return out;
  }

  private static String name(Message item) {
    if (item instanceof Span s) {
      return s.getName();
    }
    if (item instanceof Metric m) {
      return m.getName();
    }
    LogRecord r = (LogRecord) item;
    return r.getSeverityText().isEmpty() ? null : r.getSeverityText();
  }

  private static Signal signalOf(JsonObject payload) {
    for (Signal s : Signal.values()) {
      String key = switch (s) {
        case TRACES -> "resourceSpans";
        case METRICS -> "resourceMetrics";
        case LOGS -> "resourceLogs";
      };
      if (payload.containsKey(key) || payload.containsKey(snake(key))) {
        return s;
      }
    }
    throw new IllegalArgumentException("payload: expected an OTLP/JSON export request with resourceSpans, "
        + "resourceMetrics or resourceLogs");
  }

  private static String snake(String camel) {
    return camel.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
  }
}
