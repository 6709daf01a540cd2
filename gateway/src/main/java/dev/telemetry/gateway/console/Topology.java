package dev.telemetry.gateway.console;

import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.config.PipelineConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The running gateway as a graph for the console: receivers → pipelines (with their processors in order) →
 * exporters and connectors (a connector is an exporter of one pipeline and a receiver of another), each node with the
 * current value of every meter tagged with its name. Values are cumulative as the registry holds them; the console
 * turns two snapshots into rates, so this view stays cheap and stateless (one pass over the registry).
 */
public final class Topology {
  /** Node kinds and the meter tag that names a component of that kind. */
  private static final List<String> KINDS = List.of("receiver", "processor", "connector", "exporter");

  private final GatewayConfig config;
  private final MeterRegistry registry;
  private final Supplier<JsonObject> cluster;
  private final Clock clock;

  public Topology(GatewayConfig config, MeterRegistry registry, Supplier<JsonObject> cluster, Clock clock) {
    this.config = config;
    this.registry = registry;
    this.cluster = cluster;
    this.clock = clock;
  }

  public JsonObject view() {
    Map<String, JsonObject> nodes = new LinkedHashMap<>();
    config.receivers().values().forEach(r -> nodes.put("receiver:" + r.name(), node("receiver", r.name(), r.type())));
    config.processors().values().forEach(p -> {
      JsonObject n = node("processor", p.name(), p.type());
      if (p instanceof dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig ts) {
        n.put("memory_budget_bytes", ts.memoryBudgetBytes());
      }
      nodes.put("processor:" + p.name(), n);
    });
    config.connectors().values().forEach(c -> nodes.put("connector:" + c.name(),
        node("connector", c.name(), c.type())));
    config.exporters().values().forEach(e -> {
      JsonObject n = node("exporter", e.name(), e.type());
      n.put("queue", new JsonObject().put("type", e.queue().type().name().toLowerCase(java.util.Locale.ROOT))
          .put("max_items", e.queue().maxItems()).put("max_bytes", e.queue().maxBytes()));
      nodes.put("exporter:" + e.name(), n);
    });
    JsonArray pipelines = new JsonArray();
    for (PipelineConfig p : config.pipelines()) {
      JsonArray receivers = new JsonArray();
      p.receivers().forEach(r -> receivers.add(id(r)));
      JsonArray processors = new JsonArray();
      p.processors().forEach(x -> processors.add("processor:" + x));
      JsonArray exporters = new JsonArray();
      p.exporters().forEach(x -> exporters.add(id(x)));
      pipelines.add(new JsonObject().put("signal", p.signal().id()).put("receivers", receivers)
          .put("processors", processors).put("exporters", exporters));
    }
    JsonArray global = new JsonArray();
    for (Meter m : registry.getMeters()) {
      Meter.Id mid = m.getId();
      String owner = null;
      for (String kind : KINDS) {
        String v = mid.getTag(kind);
        if (v != null && nodes.containsKey(kind + ":" + v)) {
          owner = kind + ":" + v;
          break;
        }
      }
      JsonObject value = value(m, owner == null ? null : owner.substring(0, owner.indexOf(':')));
      if (value == null) {
        continue;
      }
      if (owner != null) {
        nodes.get(owner).getJsonArray("metrics").add(value);
      } else if (mid.getName().startsWith("gateway.memory.") || mid.getName().startsWith("gateway.cluster.")
          || mid.getName().startsWith("gateway.routing.") || mid.getName().startsWith("gateway.slo.")
          || mid.getName().startsWith("gateway.alerting.")) {
        global.add(value);
      }
    }
    JsonObject out = new JsonObject().put("at", clock.instant().toString()).put("at_ms", clock.millis())
        .put("nodes", new JsonArray(List.copyOf(nodes.values()))).put("pipelines", pipelines)
        .put("metrics", global);
    JsonObject c = cluster == null ? null : cluster.get();
    return c == null ? out : out.put("cluster", c);
  }

  /** A connector is named as an exporter in one pipeline and a receiver in another. */
  private String id(String name) {
    if (config.connectors().containsKey(name)) {
      return "connector:" + name;
    }
    return config.receivers().containsKey(name) ? "receiver:" + name : "exporter:" + name;
  }

  private static JsonObject node(String kind, String name, String type) {
    return new JsonObject().put("id", kind + ":" + name).put("kind", kind).put("name", name).put("type", type)
        .put("metrics", new JsonArray());
  }

  /** One meter as {@code {"name", "tags", "value"}} (Prometheus names); histograms as count and sum. */
  private JsonObject value(Meter m, String ownerTag) {
    Meter.Id id = m.getId();
    JsonObject tags = new JsonObject();
    for (Tag t : id.getTagsAsIterable()) {
      if (!t.getKey().equals(ownerTag)) {
        tags.put(t.getKey(), t.getValue());
      }
    }
    String name = registry.config().namingConvention().name(id.getName(), id.getType(), id.getBaseUnit());
    JsonObject out = new JsonObject().put("name", name).put("tags", tags);
    if (m instanceof Counter c) {
      return out.put("name", total(name)).put("value", c.count());
    } else if (m instanceof FunctionCounter c) {
      return out.put("name", total(name)).put("value", c.count());
    } else if (m instanceof TimeGauge g) {
      return finite(out, g.value(java.util.concurrent.TimeUnit.SECONDS));
    } else if (m instanceof Gauge g) {
      return finite(out, g.value());
    } else if (m instanceof Timer t) {
      return out.put("count", t.count()).put("sum", t.totalTime(java.util.concurrent.TimeUnit.SECONDS));
    } else if (m instanceof DistributionSummary s) {
      return out.put("count", s.count()).put("sum", s.totalAmount());
    }
    return null;
  }

  private static String total(String name) {
    return name.endsWith("_total") ? name : name + "_total";
  }

  private static JsonObject finite(JsonObject out, double v) {
    return Double.isFinite(v) ? out.put("value", v) : null;
  }
}
