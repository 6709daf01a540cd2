package dev.telemetry.gateway.processor.enrichment;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig.AttributeActions;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig.Lookup;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.Processor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.logging.Logger;

/**
 * Adds, replaces and removes attributes: static ones on the resource and on items (spans, log records, metric data
 * points), host facts ({@code host.name}, {@code os.type}) on the resource, and values from lookup tables keyed by an
 * attribute (e.g. {@code service.name} → team, owner, tier). Tables are re-read off the event loop when their file
 * changes and swapped in atomically; a table that fails to parse is not swapped in (the previous one stays).
 */
public final class EnrichmentProcessor implements Processor {
  private static final Logger LOG = Logger.getLogger(EnrichmentProcessor.class.getName());
  /** The OTLP message types whose attributes are "item" attributes. */
  private static final Set<String> ITEM_TYPES = Set.of("opentelemetry.proto.trace.v1.Span",
      "opentelemetry.proto.logs.v1.LogRecord", "opentelemetry.proto.metrics.v1.NumberDataPoint",
      "opentelemetry.proto.metrics.v1.HistogramDataPoint",
      "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
      "opentelemetry.proto.metrics.v1.SummaryDataPoint");

  private final Vertx vertx;
  private final EnrichmentProcessorConfig config;
  private final AtomicReferenceArray<LookupTable> tables;
  private final long[] modified;
  private final long[] timers;
  private final MeterRegistry registry;
  private final Counter hits;
  private final Counter misses;
  private volatile Map<String, String> hostFacts = Map.of();

  public EnrichmentProcessor(Vertx vertx, EnrichmentProcessorConfig config, MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.tables = new AtomicReferenceArray<>(config.lookups().size());
    this.modified = new long[config.lookups().size()];
    this.timers = new long[config.lookups().size()];
    for (int i = 0; i < tables.length(); i++) {
      tables.set(i, LookupTable.EMPTY);
    }
    hits = Counter.builder("gateway.processor.enrichment.lookups").tag("processor", config.name())
        .tag("result", "hit").description("Lookups that found a row").register(registry);
    misses = Counter.builder("gateway.processor.enrichment.lookups").tag("processor", config.name())
        .tag("result", "miss").description("Lookups that found no row").register(registry);
  }

  /** Loads every table (failing start on a bad file: a configuration error) and the host facts. */
  @Override
  public Future<Void> start() {
    List<Future<Void>> loads = new ArrayList<>();
    for (int i = 0; i < config.lookups().size(); i++) {
      int index = i;
      loads.add(reload(index, true));
      long every = config.lookups().get(i).reloadInterval().toMillis();
      timers[i] = vertx.setPeriodic(every, id -> reload(index, false));
    }
    if (config.hostFacts()) {
      loads.add(vertx.<Map<String, String>>executeBlocking(EnrichmentProcessor::readHostFacts)
          .onSuccess(f -> hostFacts = f).mapEmpty());
    }
    return Future.all(loads).mapEmpty();
  }

  static Map<String, String> readHostFacts() {
    Map<String, String> facts = new LinkedHashMap<>();
    try {
      facts.put("host.name", InetAddress.getLocalHost().getHostName()); // may resolve names: a worker's job
    } catch (java.net.UnknownHostException e) {
      String env = System.getenv("HOSTNAME");
      if (env != null) {
        facts.put("host.name", env);
      }
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    facts.put("os.type", os.startsWith("windows") ? "windows" : os.startsWith("mac") ? "darwin"
        : os.replaceAll("[^a-z]", ""));
    return Map.copyOf(facts);
  }

  /** Re-reads a table if its file changed (or always, at startup); the swap is atomic for readers. */
  private Future<Void> reload(int index, boolean initial) {
    Lookup lookup = config.lookups().get(index);
    return vertx.<LookupTable>executeBlocking(() -> {
      long mtime = Files.getLastModifiedTime(lookup.file()).toMillis();
      if (!initial && mtime == modified[index]) {
        return null;
      }
      LookupTable t = LookupTable.load(lookup.file(), lookup.key());
      modified[index] = mtime;
      return t;
    }, false).transform(ar -> {
      if (ar.succeeded()) {
        if (ar.result() != null) {
          tables.set(index, ar.result());
          count("reloads", "ok");
          if (!initial) {
            LOG.info("processor " + config.name() + ": reloaded " + lookup.file() + " (" + ar.result().rows().size()
                + " rows)");
          }
        }
        return Future.<Void>succeededFuture();
      }
      count("reloads", "failed");
      String msg = "processor " + config.name() + ": cannot load lookup table: " + ar.cause().getMessage();
      if (initial) {
        return Future.<Void>failedFuture(msg);
      }
      LOG.warning(msg + " (keeping the previous table)");
      return Future.<Void>succeededFuture();
    });
  }

  private void count(String what, String outcome) {
    Counter.builder("gateway.processor.enrichment.table." + what).tag("processor", config.name())
        .tag("outcome", outcome).description("Lookup table loads by outcome").register(registry).increment();
  }

  @Override
  public Message process(Signal signal, Message request) {
    Message.Builder req = request.toBuilder();
    FieldDescriptor resources = req.getDescriptorForType().getFields().get(0); // resource_spans/metrics/logs
    for (int i = 0; i < req.getRepeatedFieldCount(resources); i++) {
      Message.Builder rb = ((Message) req.getRepeatedField(resources, i)).toBuilder();
      FieldDescriptor resourceField = rb.getDescriptorForType().findFieldByName("resource");
      io.opentelemetry.proto.resource.v1.Resource resource =
          (io.opentelemetry.proto.resource.v1.Resource) rb.getField(resourceField);
      List<KeyValue> attrs = editResource(resource.getAttributesList());
      rb.setField(resourceField, resource.toBuilder().clearAttributes().addAllAttributes(attrs).build());
      if (needsItems()) {
        editItems(rb, attrs);
      }
      req.setRepeatedField(resources, i, rb.build());
    }
    return req.build();
  }

  private boolean needsItems() {
    return !config.items().isEmpty() || config.lookups().stream().anyMatch(
        l -> l.target() == EnrichmentProcessorConfig.Target.ITEMS);
  }

  private List<KeyValue> editResource(List<KeyValue> attrs) {
    List<KeyValue> out = apply(attrs, config.resource());
    for (Map.Entry<String, String> f : hostFacts.entrySet()) {
      out = put(out, f.getKey(), f.getValue(), false);
    }
    for (int t = 0; t < tables.length(); t++) {
      Lookup l = config.lookups().get(t);
      if (l.target() == EnrichmentProcessorConfig.Target.RESOURCE) {
        out = lookup(out, out, t, l);
      }
    }
    return out;
  }

  /** Walks down to the item messages (spans, log records, data points) and edits their attributes. */
  private void editItems(Message.Builder b, List<KeyValue> resourceAttrs) {
    boolean item = ITEM_TYPES.contains(b.getDescriptorForType().getFullName());
    for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (item && f.getName().equals("attributes")) {
        @SuppressWarnings("unchecked")
        List<KeyValue> attrs = (List<KeyValue>) b.getField(f);
        List<KeyValue> out = apply(attrs, config.items());
        for (int t = 0; t < tables.length(); t++) {
          Lookup l = config.lookups().get(t);
          if (l.target() == EnrichmentProcessorConfig.Target.ITEMS) {
            out = lookup(out, out.isEmpty() ? resourceAttrs : concat(out, resourceAttrs), t, l);
          }
        }
        b.setField(f, out);
      } else if (!item && f.getName().equals("resource")) {
        continue;
      } else if (!item && f.isRepeated()) {
        for (int i = 0; i < b.getRepeatedFieldCount(f); i++) {
          Message.Builder child = ((Message) b.getRepeatedField(f, i)).toBuilder();
          editItems(child, resourceAttrs);
          b.setRepeatedField(f, i, child.build());
        }
      } else if (!item && b.hasField(f)) {
        Message.Builder child = ((Message) b.getField(f)).toBuilder();
        editItems(child, resourceAttrs);
        b.setField(f, child.build());
      }
    }
  }

  private static List<KeyValue> concat(List<KeyValue> a, List<KeyValue> b) {
    List<KeyValue> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** Looks the key attribute up in {@code source} (first match) and adds the row's attributes to {@code target}. */
  private List<KeyValue> lookup(List<KeyValue> target, List<KeyValue> source, int table, Lookup l) {
    String key = null;
    for (KeyValue kv : source) {
      if (kv.getKey().equals(l.key()) && kv.getValue().hasStringValue()) {
        key = kv.getValue().getStringValue();
        break;
      }
    }
    if (key == null) {
      return target;
    }
    Map<String, String> row = tables.get(table).get(key);
    if (row == null) {
      misses.increment();
      return target;
    }
    hits.increment();
    List<KeyValue> out = target;
    for (Map.Entry<String, String> e : row.entrySet()) {
      out = put(out, e.getKey(), e.getValue(), l.overwrite());
    }
    return out;
  }

  /** delete, then upsert, then insert (only where absent). */
  static List<KeyValue> apply(List<KeyValue> attrs, AttributeActions a) {
    if (a.isEmpty()) {
      return attrs;
    }
    List<KeyValue> out = new ArrayList<>(attrs.size() + a.insert().size() + a.upsert().size());
    for (KeyValue kv : attrs) {
      if (!a.delete().contains(kv.getKey())) {
        out.add(kv);
      }
    }
    for (Map.Entry<String, String> e : a.upsert().entrySet()) {
      out = put(out, e.getKey(), e.getValue(), true);
    }
    for (Map.Entry<String, String> e : a.insert().entrySet()) {
      out = put(out, e.getKey(), e.getValue(), false);
    }
    return out;
  }

  static List<KeyValue> put(List<KeyValue> attrs, String key, String value, boolean overwrite) {
    for (int i = 0; i < attrs.size(); i++) {
      if (attrs.get(i).getKey().equals(key)) {
        if (!overwrite) {
          return attrs;
        }
        List<KeyValue> out = new ArrayList<>(attrs);
        out.set(i, kv(key, value));
        return out;
      }
    }
    List<KeyValue> out = new ArrayList<>(attrs);
    out.add(kv(key, value));
    return out;
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }

  @Override
  public Future<Void> stop() {
    for (long t : timers) {
      vertx.cancelTimer(t);
    }
    return Future.succeededFuture();
  }
}
