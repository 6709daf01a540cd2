package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Reads the gateway's JSON config into {@link GatewayConfig}: environment substitution, type and range checks,
 * cross-references (pipelines name existing receivers and exporters) and defaults. Every problem is reported with
 * its JSON path; a config with any problem yields no {@code GatewayConfig} at all.
 */
public final class ConfigLoader {
  private static final Set<String> RECEIVER_TYPES = Set.of(OtlpReceiverConfig.TYPE);
  private static final Set<String> PROCESSOR_TYPES = Set.of(EnrichmentProcessorConfig.TYPE,
      RedactionProcessorConfig.TYPE, TailSamplingProcessorConfig.TYPE);
  private static final Set<String> EXPORTER_TYPES = Set.of(OtlpExporterConfig.TYPE, FileExporterConfig.TYPE,
      PrometheusRemoteWriteExporterConfig.TYPE, ElasticsearchExporterConfig.TYPE);

  private final Function<String, String> env;

  public ConfigLoader(Function<String, String> env) {
    this.env = env;
  }

  /** A loader that reads the process environment. */
  public static ConfigLoader withSystemEnv() {
    return new ConfigLoader(System::getenv);
  }

  public GatewayConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
    return parse(text, file.getParent() == null ? Path.of(".") : file.getParent());
  }

  /** Parses config text; relative paths in it (e.g. the file exporter's directory) stay relative to the CWD. */
  public GatewayConfig parse(String text, Path baseDir) throws ConfigException {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException e) {
      throw new ConfigException("(root): not valid JSON: " + e.getMessage());
    } catch (ClassCastException e) {
      throw new ConfigException("(root): expected a JSON object");
    }
    ConfigErrors errors = new ConfigErrors();
    ConfigNode root = new ConfigNode("", json, errors, new EnvSubstitution(env));
    root.allowOnly("$schema", "receivers", "processors", "exporters", "pipelines", "routing", "memory_limit",
        "admin", "logging", "shutdown_timeout", "cluster");

    Map<String, ReceiverConfig> receivers = new LinkedHashMap<>();
    Map<String, ConfigNode> receiverNodes = root.object("receivers").entries();
    receiverNodes.forEach((name, node) -> {
      ReceiverConfig r = receiver(name, node);
      if (r != null) {
        receivers.put(name, r);
      }
    });
    Map<String, ProcessorConfig> processors = new LinkedHashMap<>();
    Map<String, ConfigNode> processorNodes = root.object("processors").entries();
    processorNodes.forEach((name, node) -> {
      ProcessorConfig pc = processor(name, node);
      if (pc != null) {
        processors.put(name, pc);
      }
    });
    Map<String, ExporterConfig> exporters = new LinkedHashMap<>();
    Map<String, ConfigNode> exporterNodes = root.object("exporters").entries();
    exporterNodes.forEach((name, node) -> {
      ExporterConfig e = exporter(name, node);
      if (e != null) {
        exporters.put(name, e);
      }
    });
    // Cross-references are checked against declared names, so a broken exporter is reported once, not again
    // by every pipeline that uses it.
    Set<String> metricsOnly = new HashSet<>();
    Set<String> logsOnly = new HashSet<>();
    exporterNodes.forEach((name, node) -> {
      if (PrometheusRemoteWriteExporterConfig.TYPE.equals(node.peekString("type"))) {
        metricsOnly.add(name);
      }
      if (ElasticsearchExporterConfig.TYPE.equals(node.peekString("type"))) {
        logsOnly.add(name);
      }
    });
    Set<String> samplers = new HashSet<>();
    processorNodes.forEach((name, node) -> {
      if (TailSamplingProcessorConfig.TYPE.equals(node.peekString("type"))) {
        samplers.add(name);
      }
    });
    List<PipelineConfig> pipelines = pipelines(root.object("pipelines"), receiverNodes.keySet(),
        processorNodes.keySet(), exporterNodes.keySet(), metricsOnly, logsOnly, samplers, errors);
    checkDistinctFileDirectories(exporters, root);
    checkDistinctListeners(receivers, root);

    RoutingConfig routing = null;
    if (root.has("routing")) {
      ConfigNode rn = root.object("routing");
      rn.allowOnly("file", "watch_interval", "history");
      String file = rn.string("file", null);
      Duration watch = rn.duration("watch_interval", RoutingConfig.DEFAULT_WATCH_INTERVAL, Duration.ZERO);
      int history = (int) rn.integer("history", RoutingConfig.DEFAULT_HISTORY, 1, 1000);
      if (file != null) {
        routing = build(rn, null, () -> new RoutingConfig(Path.of(file), watch, history));
      }
    }

    ConfigNode ml = root.object("memory_limit");
    ml.allowOnly("max_heap_percent", "check_interval");
    MemoryLimitConfig memoryLimit = new MemoryLimitConfig(
        (int) ml.integer("max_heap_percent", MemoryLimitConfig.DEFAULTS.maxHeapPercent(), 0, 99),
        ml.duration("check_interval", MemoryLimitConfig.DEFAULTS.checkInterval(), java.time.Duration.ofMillis(10)));

    ConfigNode admin = root.object("admin");
    admin.allowOnly("endpoint", "token");
    HostPort adminEndpoint = hostPort(admin, "endpoint", AdminConfig.DEFAULTS.endpoint());
    String token = admin.string("token", "");
    boolean tokenOk = token == null || token.isEmpty() || token.length() >= 16;
    if (!tokenOk) {
      admin.error("token", "must be at least 16 characters (generate one with `openssl rand -hex 32`)");
    }
    AdminConfig adminConfig = tokenOk ? build(admin, null, () -> new AdminConfig(adminEndpoint,
        token == null || token.isEmpty() ? null : token)) : AdminConfig.DEFAULTS;

    ConfigNode logging = root.object("logging");
    logging.allowOnly("level", "format");
    LoggingConfig log = new LoggingConfig(
        logging.enumValue("level", LoggingConfig.Level.class, LoggingConfig.DEFAULTS.level()),
        logging.enumValue("format", LoggingConfig.Format.class, LoggingConfig.DEFAULTS.format()));
    Duration shutdown = root.duration("shutdown_timeout", GatewayConfig.DEFAULT_SHUTDOWN_TIMEOUT, Duration.ZERO);
    ClusterConfig cluster = root.has("cluster") ? cluster(root.object("cluster"), receivers, pipelines) : null;

    errors.throwIfAny();
    return new GatewayConfig(receivers, processors, exporters, pipelines, routing, memoryLimit, adminConfig, log,
        shutdown, cluster);
  }

  private static String type(ConfigNode node, Set<String> known, String what) {
    String type = node.string("type", null);
    if (type != null && !known.contains(type)) {
      node.error("type", "unknown " + what + " type \"" + type + "\" (known types: "
          + String.join(", ", new java.util.TreeSet<>(known)) + ")");
      return null;
    }
    return type;
  }

  private ReceiverConfig receiver(String name, ConfigNode node) {
    int before = node.errors().count();
    String type = type(node, RECEIVER_TYPES, "receiver");
    if (type == null) {
      return null;
    }
    node.allowOnly("type", "grpc", "http", "max_request_bytes", "max_decompressed_bytes", "retry_after");
    HostPort grpc = listener(node, "grpc", OtlpReceiverConfig.DEFAULT_GRPC);
    HostPort http = listener(node, "http", OtlpReceiverConfig.DEFAULT_HTTP);
    long maxRequest = node.bytes("max_request_bytes", OtlpReceiverConfig.DEFAULT_MAX_REQUEST_BYTES, 1024);
    long maxDecompressed = node.bytes("max_decompressed_bytes",
        Math.max(OtlpReceiverConfig.DEFAULT_MAX_DECOMPRESSED_BYTES, maxRequest), 1024);
    Duration retryAfter = node.duration("retry_after", OtlpReceiverConfig.DEFAULT_RETRY_AFTER, Duration.ofSeconds(1));
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null, () -> new OtlpReceiverConfig(name, grpc, http, maxRequest, maxDecompressed, retryAfter));
  }

  /** {@code "grpc": {"endpoint": "host:port"}} enables a listener, {@code "grpc": false} disables it. */
  private static HostPort listener(ConfigNode node, String key, HostPort def) {
    if (!node.has(key)) {
      return def;
    }
    if (node.isBoolean(key)) {
      return node.bool(key, true) ? def : null;
    }
    ConfigNode l = node.object(key);
    l.allowOnly("endpoint");
    return hostPort(l, "endpoint", def);
  }

  private static HostPort hostPort(ConfigNode node, String key, HostPort def) {
    String s = node.string(key, def.toString());
    if (s == null) {
      return def;
    }
    try {
      return HostPort.parse(s);
    } catch (IllegalArgumentException e) {
      node.error(key, e.getMessage());
      return def;
    }
  }

  private ProcessorConfig processor(String name, ConfigNode node) {
    int before = node.errors().count();
    String type = type(node, PROCESSOR_TYPES, "processor");
    if (type == null) {
      return null;
    }
    if (type.equals(RedactionProcessorConfig.TYPE)) {
      return redaction(name, node, before);
    }
    if (type.equals(TailSamplingProcessorConfig.TYPE)) {
      return tailSampling(name, node, before);
    }
    node.allowOnly("type", "resource", "items", "host", "lookups");
    EnrichmentProcessorConfig.AttributeActions resource = actions(node.object("resource"));
    EnrichmentProcessorConfig.AttributeActions items = actions(node.object("items"));
    boolean host = node.bool("host", false);
    List<EnrichmentProcessorConfig.Lookup> lookups = new ArrayList<>();
    for (ConfigNode l : node.objectList("lookups")) {
      l.allowOnly("file", "key", "target", "overwrite", "reload_interval");
      String file = l.string("file", null);
      String key = l.string("key", null);
      EnrichmentProcessorConfig.Target target = l.enumValue("target", EnrichmentProcessorConfig.Target.class,
          EnrichmentProcessorConfig.Target.RESOURCE);
      boolean overwrite = l.bool("overwrite", false);
      Duration reload = l.duration("reload_interval", EnrichmentProcessorConfig.DEFAULT_RELOAD_INTERVAL,
          Duration.ofMillis(100));
      if (file != null && key != null) {
        EnrichmentProcessorConfig.Lookup lookup = build(l, null,
            () -> new EnrichmentProcessorConfig.Lookup(Path.of(file), key, target, overwrite, reload));
        if (lookup != null) {
          lookups.add(lookup);
        }
      }
    }
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null, () -> new EnrichmentProcessorConfig(name, resource, items, host, lookups));
  }

  private static ProcessorConfig redaction(String name, ConfigNode node, int before) {
    node.allowOnly("type", "allowed_keys", "blocked_keys", "blocked_key_action", "hash_key", "rules", "summary");
    List<String> allowed = node.stringList("allowed_keys", List.of());
    List<String> blocked = node.stringList("blocked_keys", List.of());
    RedactionProcessorConfig.Action blockedAction = node.enumValue("blocked_key_action",
        RedactionProcessorConfig.Action.class, RedactionProcessorConfig.Action.MASK);
    String hashKey = node.string("hash_key", "");
    boolean summary = node.bool("summary", false);
    List<RedactionProcessorConfig.Rule> rules = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode r : node.objectList("rules")) {
      r.allowOnly("name", "detector", "pattern", "action", "signals", "services");
      String ruleName = r.string("name", null);
      String detector = r.has("detector") ? r.string("detector", null) : null;
      String pattern = r.has("pattern") ? r.string("pattern", null) : null;
      RedactionProcessorConfig.Action action = r.enumValue("action", RedactionProcessorConfig.Action.class,
          RedactionProcessorConfig.Action.MASK);
      Set<Signal> signals = new HashSet<>();
      for (String s : r.stringList("signals", List.of())) {
        try {
          signals.add(Signal.fromId(s));
        } catch (IllegalArgumentException e) {
          r.error("signals", "\"" + s + "\" is not one of traces, metrics, logs");
        }
      }
      Set<String> services = new HashSet<>(r.stringList("services", List.of()));
      if (ruleName != null && !names.add(ruleName)) {
        r.error("name", "rule name \"" + ruleName + "\" is used twice");
      }
      if (ruleName != null) {
        RedactionProcessorConfig.Rule rule = build(r, null,
            () -> new RedactionProcessorConfig.Rule(ruleName, detector, pattern, action, signals, services));
        if (rule != null) {
          rules.add(rule);
        }
      }
    }
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null, () -> new RedactionProcessorConfig(name, allowed, blocked, blockedAction,
        hashKey.isEmpty() ? null : hashKey, rules, summary));
  }

  private static ProcessorConfig tailSampling(String name, ConfigNode node, int before) {
    node.allowOnly("type", "decision_wait", "memory_budget", "decision_cache", "policies");
    Duration wait = node.duration("decision_wait", TailSamplingProcessorConfig.DEFAULT_DECISION_WAIT,
        Duration.ofMillis(1));
    long budget = node.bytes("memory_budget", TailSamplingProcessorConfig.DEFAULT_MEMORY_BUDGET, 1024);
    ConfigNode cache = node.object("decision_cache");
    cache.allowOnly("sampled", "not_sampled");
    int sampled = (int) cache.integer("sampled", TailSamplingProcessorConfig.DEFAULT_CACHE_SIZE, 0, 100_000_000);
    int notSampled = (int) cache.integer("not_sampled", TailSamplingProcessorConfig.DEFAULT_CACHE_SIZE, 0,
        100_000_000);
    List<TailSamplingProcessorConfig.Policy> policies = policies(node, "policies");
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null, () -> new TailSamplingProcessorConfig(name, wait, budget, sampled, notSampled,
        policies));
  }

  private static List<TailSamplingProcessorConfig.Policy> policies(ConfigNode node, String key) {
    List<TailSamplingProcessorConfig.Policy> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode p : node.objectList(key)) {
      String type = p.string("type", null);
      String pname = p.string("name", null);
      if (pname != null && !names.add(pname)) {
        p.error("name", "policy name \"" + pname + "\" is used twice");
      }
      if (type == null || pname == null) {
        continue;
      }
      if (!TailSamplingProcessorConfig.POLICY_TYPES.contains(type)) {
        p.error("type", "unknown policy type \"" + type + "\" (known types: "
            + String.join(", ", TailSamplingProcessorConfig.POLICY_TYPES) + ")");
        continue;
      }
      List<String> allowedKeys = new ArrayList<>(List.of("name", "type"));
      Duration threshold = null;
      Duration upper = null;
      List<String> codes = null;
      double percentage = 0;
      String attr = null;
      List<String> values = null;
      boolean regex = false;
      boolean invert = false;
      Double min = null;
      Double max = null;
      Boolean boolValue = null;
      Integer minSpans = null;
      Integer maxSpans = null;
      long rate = 0;
      List<TailSamplingProcessorConfig.Policy> subs = null;
      List<Integer> shares = null;
      switch (type) {
        case "latency" -> {
          allowedKeys.addAll(List.of("threshold", "upper_threshold"));
          threshold = p.duration("threshold", null, Duration.ZERO);
          if (threshold == null) {
            p.error("threshold", "is required (e.g. \"2s\")");
          }
          upper = p.duration("upper_threshold", null, Duration.ZERO);
        }
        case "status_code" -> {
          allowedKeys.add("status_codes");
          codes = p.stringList("status_codes", null);
          if (codes != null) {
            for (int i = 0; i < codes.size(); i++) {
              if (!List.of("ERROR", "OK", "UNSET").contains(codes.get(i))) {
                p.errors().add(p.pathOf("status_codes") + "[" + i + "]", "\"" + codes.get(i)
                    + "\" is not one of ERROR, OK, UNSET");
              }
            }
          }
        }
        case "probabilistic" -> {
          allowedKeys.add("percentage");
          percentage = p.number("percentage", -1, 0, 100);
          if (!p.has("percentage")) {
            p.error("percentage", "is required (0 to 100)");
          }
        }
        case "string_attribute" -> {
          allowedKeys.addAll(List.of("key", "values", "regex", "invert"));
          attr = p.string("key", null);
          values = p.stringList("values", null);
          regex = p.bool("regex", false);
          invert = p.bool("invert", false);
          if (regex && values != null) {
            for (int i = 0; i < values.size(); i++) {
              try {
                com.google.re2j.Pattern.compile(values.get(i));
              } catch (com.google.re2j.PatternSyntaxException e) {
                p.errors().add(p.pathOf("values") + "[" + i + "]", "invalid RE2 pattern: " + e.getMessage());
              }
            }
          }
        }
        case "numeric_attribute" -> {
          allowedKeys.addAll(List.of("key", "min", "max", "invert"));
          attr = p.string("key", null);
          min = p.has("min") ? p.number("min", 0, -Double.MAX_VALUE, Double.MAX_VALUE) : null;
          max = p.has("max") ? p.number("max", 0, -Double.MAX_VALUE, Double.MAX_VALUE) : null;
          invert = p.bool("invert", false);
          if (min == null && max == null) {
            p.error(null, "give min, max or both");
          }
        }
        case "boolean_attribute" -> {
          allowedKeys.addAll(List.of("key", "value", "invert"));
          attr = p.string("key", null);
          boolValue = p.bool("value", true);
          invert = p.bool("invert", false);
        }
        case "span_count" -> {
          allowedKeys.addAll(List.of("min_spans", "max_spans"));
          minSpans = (int) p.integer("min_spans", 1, 0, Integer.MAX_VALUE);
          maxSpans = p.has("max_spans") ? (int) p.integer("max_spans", Integer.MAX_VALUE, 0, Integer.MAX_VALUE) : null;
        }
        case "trace_state" -> {
          allowedKeys.addAll(List.of("key", "values"));
          attr = p.string("key", null);
          values = p.stringList("values", null);
        }
        case "rate_limiting" -> {
          allowedKeys.add("spans_per_second");
          rate = p.integer("spans_per_second", 0, 1, Long.MAX_VALUE);
          if (!p.has("spans_per_second")) {
            p.error("spans_per_second", "is required");
          }
        }
        case "and", "drop" -> {
          allowedKeys.add("policies");
          subs = policies(p, "policies");
          if (subs.isEmpty()) {
            p.error("policies", "give at least one sub-policy");
          }
        }
        case "composite" -> {
          allowedKeys.addAll(List.of("spans_per_second", "policies", "shares"));
          rate = p.integer("spans_per_second", 0, 1, Long.MAX_VALUE);
          subs = policies(p, "policies");
          shares = p.integerList("shares");
          if (subs.size() != shares.size()) {
            p.error("shares", "give one share (percent) per sub-policy: " + subs.size() + " policies, "
                + shares.size() + " shares");
          } else if (shares.stream().mapToInt(Integer::intValue).sum() > 100) {
            p.error("shares", "shares add up to more than 100 percent");
          }
        }
        default -> {
        }
      }
      p.allowOnly(allowedKeys.toArray(String[]::new));
      TailSamplingProcessorConfig.Policy policy = new TailSamplingProcessorConfig.Policy(pname, type, threshold,
          upper, codes, percentage, attr, values, regex, invert, min, max, boolValue, minSpans, maxSpans, rate, subs,
          shares);
      out.add(policy);
    }
    return out;
  }

  private static EnrichmentProcessorConfig.AttributeActions actions(ConfigNode node) {
    node.allowOnly("insert", "upsert", "delete");
    return new EnrichmentProcessorConfig.AttributeActions(node.stringMap("insert"), node.stringMap("upsert"),
        node.stringList("delete", List.of()));
  }

  private ExporterConfig exporter(String name, ConfigNode node) {
    int before = node.errors().count();
    String type = type(node, EXPORTER_TYPES, "exporter");
    if (type == null) {
      return null;
    }
    QueueConfig queue = queue(node.object("queue"),
        type.equals(PrometheusRemoteWriteExporterConfig.TYPE) ? PrometheusRemoteWriteExporterConfig.DEFAULT_QUEUE
            : QueueConfig.DEFAULTS);
    BatchConfig batch = batch(node.object("batch"));
    RetryConfig retry = retry(node.object("retry"));
    if (type.equals(OtlpExporterConfig.TYPE)) {
      node.allowOnly("type", "endpoint", "timeout", "compression", "headers", "queue", "batch", "retry");
      URI endpoint = url(node, "endpoint");
      Duration timeout = node.duration("timeout", OtlpExporterConfig.DEFAULT_TIMEOUT, Duration.ofMillis(1));
      OtlpExporterConfig.Compression compression = node.enumValue("compression",
          OtlpExporterConfig.Compression.class, OtlpExporterConfig.Compression.GZIP);
      Map<String, String> headers = node.stringMap("headers");
      if (node.errors().count() > before) {
        return null;
      }
      return build(node, null,
          () -> new OtlpExporterConfig(name, endpoint, timeout, compression, headers, queue, batch, retry));
    }
    if (type.equals(PrometheusRemoteWriteExporterConfig.TYPE)) {
      return prometheus(name, node, before, queue, batch, retry);
    }
    if (type.equals(ElasticsearchExporterConfig.TYPE)) {
      return elasticsearch(name, node, before, queue, batch, retry);
    }
    node.allowOnly("type", "directory", "max_file_bytes", "max_files", "queue", "batch", "retry");
    String dir = node.string("directory", null);
    long maxFileBytes = node.bytes("max_file_bytes", FileExporterConfig.DEFAULT_MAX_FILE_BYTES, 1024);
    int maxFiles = (int) node.integer("max_files", FileExporterConfig.DEFAULT_MAX_FILES, 1, 10_000);
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null,
        () -> new FileExporterConfig(name, Path.of(dir), maxFileBytes, maxFiles, queue, batch, retry));
  }

  private static ExporterConfig prometheus(String name, ConfigNode node, int before, QueueConfig queue,
                                           BatchConfig batch, RetryConfig retry) {
    node.allowOnly("type", "endpoint", "timeout", "headers", "external_labels", "add_metric_suffixes",
        "scope_labels", "target_info", "promote_resource_attributes", "shards", "max_samples_per_send",
        "max_bytes_per_send", "delta", "queue", "batch", "retry");
    URI endpoint = url(node, "endpoint");
    Duration timeout = node.duration("timeout", PrometheusRemoteWriteExporterConfig.DEFAULT_TIMEOUT,
        Duration.ofMillis(1));
    Map<String, String> headers = node.stringMap("headers");
    Map<String, String> external = node.stringMap("external_labels");
    boolean suffixes = node.bool("add_metric_suffixes", true);
    boolean scope = node.bool("scope_labels", true);
    boolean targetInfo = node.bool("target_info", true);
    List<String> promote = node.stringList("promote_resource_attributes", List.of());
    int shards = (int) node.integer("shards", PrometheusRemoteWriteExporterConfig.DEFAULT_SHARDS, 1, 256);
    int maxSamples = (int) node.integer("max_samples_per_send",
        PrometheusRemoteWriteExporterConfig.DEFAULT_MAX_SAMPLES_PER_SEND, 1, 1_000_000);
    long maxBytes = node.bytes("max_bytes_per_send", PrometheusRemoteWriteExporterConfig.DEFAULT_MAX_BYTES_PER_SEND,
        1024);
    ConfigNode delta = node.object("delta");
    delta.allowOnly("max_series", "ttl");
    int deltaMax = (int) delta.integer("max_series", PrometheusRemoteWriteExporterConfig.DEFAULT_DELTA_MAX_SERIES, 1,
        100_000_000);
    Duration deltaTtl = delta.duration("ttl", PrometheusRemoteWriteExporterConfig.DEFAULT_DELTA_TTL,
        Duration.ofSeconds(1));
    if (node.errors().count() > before) {
      return null;
    }
    return build(node, null, () -> new PrometheusRemoteWriteExporterConfig(name, endpoint, timeout, headers,
        external, suffixes, scope, targetInfo, promote, shards, maxSamples, maxBytes, deltaMax, deltaTtl, queue,
        batch, retry));
  }

  private static ExporterConfig elasticsearch(String name, ConfigNode node, int before, QueueConfig queue,
                                              BatchConfig batch, RetryConfig retry) {
    node.allowOnly("type", "endpoints", "mapping", "dataset", "namespace", "auth", "tls", "transport", "timeout",
        "dead_letter_file", "index_template", "document_id", "queue", "batch", "retry");
    ElasticsearchExporterConfig.DocumentId documentId = node.enumValue("document_id",
        ElasticsearchExporterConfig.DocumentId.class, ElasticsearchExporterConfig.DocumentId.NONE);
    List<String> urls = node.stringList("endpoints", null);
    List<URI> endpoints = new ArrayList<>();
    if (urls != null) {
      for (int i = 0; i < urls.size(); i++) {
        URI u = parseUrl(urls.get(i));
        if (u == null) {
          node.errors().add(node.pathOf("endpoints") + "[" + i + "]", "not a URL: \"" + urls.get(i)
              + "\" (expected http://host:port, or https://host:port for TLS)");
        } else {
          endpoints.add(u);
        }
      }
    }
    ElasticsearchExporterConfig.Mapping mapping = node.enumValue("mapping", ElasticsearchExporterConfig.Mapping.class,
        ElasticsearchExporterConfig.Mapping.OTEL);
    String dataset = node.string("dataset", ElasticsearchExporterConfig.DEFAULT_DATASET);
    String namespace = node.string("namespace", ElasticsearchExporterConfig.DEFAULT_NAMESPACE);
    ElasticsearchExporterConfig.Auth auth = null;
    if (node.has("auth")) {
      ConfigNode a = node.object("auth");
      a.allowOnly("api_key", "username", "password");
      String apiKey = a.string("api_key", "");
      String user = a.string("username", "");
      String password = a.string("password", "");
      auth = build(a, null, () -> new ElasticsearchExporterConfig.Auth(apiKey, user, password));
    }
    ConfigNode t = node.object("tls");
    t.allowOnly("ca_file", "insecure_skip_verify");
    String ca = t.string("ca_file", "");
    ElasticsearchExporterConfig.Tls tls = new ElasticsearchExporterConfig.Tls(ca.isEmpty() ? null : Path.of(ca),
        t.bool("insecure_skip_verify", false));
    ElasticsearchExporterConfig.Transport transport = node.enumValue("transport",
        ElasticsearchExporterConfig.Transport.class, ElasticsearchExporterConfig.Transport.VERTX);
    Duration timeout = node.duration("timeout", ElasticsearchExporterConfig.DEFAULT_TIMEOUT, Duration.ofMillis(1));
    String dlq = node.string("dead_letter_file", "data/dead-letter/" + name + ".jsonl");
    ConfigNode tpl = node.object("index_template");
    tpl.allowOnly("install", "pattern", "priority");
    boolean install = tpl.bool("install", true);
    String pattern = tpl.string("pattern", ElasticsearchExporterConfig.DEFAULT_TEMPLATE_PATTERN);
    int priority = (int) tpl.integer("priority", ElasticsearchExporterConfig.DEFAULT_TEMPLATE_PRIORITY, 0, 100_000);
    if (node.errors().count() > before) {
      return null;
    }
    ElasticsearchExporterConfig.Auth finalAuth = auth;
    return build(node, null, () -> new ElasticsearchExporterConfig(name, endpoints, mapping, dataset, namespace,
        finalAuth, tls, transport, timeout, Path.of(dlq), install, pattern, priority, queue, batch, retry,
        documentId));
  }

  private static URI parseUrl(String s) {
    try {
      URI u = new URI(s);
      if (u.getScheme() == null || u.getHost() == null || u.getPort() < 0
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
        return null;
      }
      return u;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static URI url(ConfigNode node, String key) {
    String s = node.string(key, null);
    if (s == null) {
      return null;
    }
    URI u = parseUrl(s);
    if (u == null) {
      node.error(key, "not a URL: \"" + s + "\" (expected http://host:port, or https://host:port for TLS)");
    }
    return u;
  }

  private static QueueConfig queue(ConfigNode node, QueueConfig d) {
    node.allowOnly("type", "max_items", "max_bytes", "concurrency", "when_full", "directory", "fsync",
        "fsync_interval", "segment_bytes", "dead_letter_file", "memory_bytes");
    QueueConfig.Type type = node.enumValue("type", QueueConfig.Type.class, d.type());
    String dir = node.string("directory", type == QueueConfig.Type.PERSISTENT ? null : "");
    String dlq = node.string("dead_letter_file", "");
    long maxItems = node.integer("max_items", d.maxItems(), 1, Integer.MAX_VALUE);
    long maxBytes = node.bytes("max_bytes", d.maxBytes(), 1024);
    int concurrency = (int) node.integer("concurrency", d.concurrency(), 1, 256);
    QueueConfig.WhenFull whenFull = node.enumValue("when_full", QueueConfig.WhenFull.class, d.whenFull());
    QueueConfig.Fsync fsync = node.enumValue("fsync", QueueConfig.Fsync.class, d.fsync());
    Duration fsyncInterval = node.duration("fsync_interval", d.fsyncInterval(), Duration.ofMillis(1));
    long segmentBytes = node.bytes("segment_bytes", d.segmentBytes(), 64 * 1024);
    long memoryBytes = node.bytes("memory_bytes", d.memoryBytes(), 0);
    if (type == QueueConfig.Type.PERSISTENT && dir == null) {
      return d; // reported as required
    }
    QueueConfig q = build(node, null, () -> new QueueConfig(maxItems, maxBytes, concurrency, type, whenFull,
        dir == null || dir.isEmpty() ? null : Path.of(dir), fsync, fsyncInterval, segmentBytes,
        dlq == null || dlq.isEmpty() ? null : Path.of(dlq), memoryBytes));
    return q == null ? d : q;
  }

  private static BatchConfig batch(ConfigNode node) {
    node.allowOnly("max_items", "max_bytes", "timeout");
    BatchConfig d = BatchConfig.DEFAULTS;
    return new BatchConfig((int) node.integer("max_items", d.maxItems(), 1, 1_000_000),
        node.bytes("max_bytes", d.maxBytes(), 1024),
        node.duration("timeout", d.timeout(), Duration.ZERO));
  }

  private static RetryConfig retry(ConfigNode node) {
    node.allowOnly("enabled", "initial_interval", "max_interval", "max_elapsed_time", "multiplier", "jitter");
    RetryConfig d = RetryConfig.DEFAULTS;
    int before = node.errors().count();
    boolean enabled = node.bool("enabled", d.enabled());
    Duration initial = node.duration("initial_interval", d.initialInterval(), Duration.ofMillis(1));
    Duration max = node.duration("max_interval", d.maxInterval(), Duration.ofMillis(1));
    Duration elapsed = node.duration("max_elapsed_time", d.maxElapsed(), Duration.ZERO);
    double multiplier = node.number("multiplier", d.multiplier(), 1, 100);
    double jitter = node.number("jitter", d.jitter(), 0, 1);
    if (node.errors().count() > before) {
      return d;
    }
    RetryConfig r = build(node, null, () -> new RetryConfig(enabled, initial, max, elapsed, multiplier, jitter));
    return r == null ? d : r;
  }

  private static List<PipelineConfig> pipelines(ConfigNode node, Set<String> receivers, Set<String> processors,
                                                Set<String> exporters, Set<String> metricsOnly,
                                                Set<String> logsOnly, Set<String> samplers, ConfigErrors errors) {
    node.allowOnly("traces", "metrics", "logs");
    List<PipelineConfig> out = new ArrayList<>();
    Map<String, ConfigNode> entries = node.entries();
    if (entries.isEmpty()) {
      node.error(null, "configure at least one pipeline (traces, metrics or logs)");
    }
    for (Map.Entry<String, ConfigNode> e : entries.entrySet()) {
      if (!Set.of("traces", "metrics", "logs").contains(e.getKey())) {
        continue;
      }
      ConfigNode p = e.getValue();
      p.allowOnly("receivers", "processors", "exporters");
      int before = errors.count();
      List<String> rs = p.stringList("receivers", null);
      List<String> ps = p.stringList("processors", List.of());
      checkNames(p, "processors", ps, processors, "processor");
      for (int i = 0; ps != null && i < ps.size(); i++) {
        if (samplers.contains(ps.get(i))) {
          if (!e.getKey().equals("traces")) {
            p.errors().add(p.pathOf("processors") + "[" + i + "]", "processor \"" + ps.get(i)
                + "\" (tail_sampling) samples traces only; list it in pipelines.traces");
          } else if (i != ps.size() - 1) {
            p.errors().add(p.pathOf("processors") + "[" + i + "]", "processor \"" + ps.get(i)
                + "\" (tail_sampling) must come last: it holds spans and releases whole traces to the exporters");
          }
        }
      }
      List<String> xs = p.stringList("exporters", null);
      checkNames(p, "receivers", rs, receivers, "receiver");
      checkNames(p, "exporters", xs, exporters, "exporter");
      if (xs != null && !e.getKey().equals("metrics")) {
        for (int i = 0; i < xs.size(); i++) {
          if (metricsOnly.contains(xs.get(i))) {
            p.errors().add(p.pathOf("exporters") + "[" + i + "]", "exporter \"" + xs.get(i)
                + "\" (prometheus_remote_write) takes metrics only; list it in pipelines.metrics");
          }
        }
      }
      if (xs != null && !e.getKey().equals("logs")) {
        for (int i = 0; i < xs.size(); i++) {
          if (logsOnly.contains(xs.get(i))) {
            p.errors().add(p.pathOf("exporters") + "[" + i + "]", "exporter \"" + xs.get(i)
                + "\" (elasticsearch) takes logs only; list it in pipelines.logs");
          }
        }
      }
      if (errors.count() == before) {
        PipelineConfig pc = build(p, null, () -> new PipelineConfig(Signal.fromId(e.getKey()), rs, ps, xs));
        if (pc != null) {
          out.add(pc);
        }
      }
    }
    return out;
  }

  private static void checkNames(ConfigNode p, String key, List<String> names, Set<String> known, String what) {
    if (names == null) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < names.size(); i++) {
      String n = names.get(i);
      if (!known.contains(n)) {
        p.errors().add(p.pathOf(key) + "[" + i + "]", "no " + what + " named \"" + n + "\" (defined: "
            + (known.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(known))) + ")");
      } else if (!seen.add(n)) {
        p.errors().add(p.pathOf(key) + "[" + i + "]", what + " \"" + n + "\" is listed twice");
      }
    }
  }

  private static void checkDistinctFileDirectories(Map<String, ExporterConfig> exporters, ConfigNode root) {
    Map<Path, String> dirs = new HashMap<>();
    for (ExporterConfig e : exporters.values()) {
      if (e instanceof FileExporterConfig f) {
        String other = dirs.putIfAbsent(f.directory().toAbsolutePath().normalize(), f.name());
        if (other != null) {
          root.errors().add("exporters." + f.name() + ".directory",
              "already used by exporter \"" + other + "\"; give each file exporter its own directory");
        }
      }
    }
  }

  private static void checkDistinctListeners(Map<String, ReceiverConfig> receivers, ConfigNode root) {
    Map<Integer, String> ports = new HashMap<>();
    for (ReceiverConfig r : receivers.values()) {
      if (r instanceof OtlpReceiverConfig o) {
        for (var l : new Object[][] {{"grpc", o.grpc()}, {"http", o.http()}}) {
          HostPort hp = (HostPort) l[1];
          if (hp == null || hp.port() == 0) {
            continue;
          }
          String where = "receivers." + o.name() + "." + l[0] + ".endpoint";
          String other = ports.putIfAbsent(hp.port(), where);
          if (other != null) {
            root.errors().add(where, "port " + hp.port() + " is already used by " + other);
          }
        }
      }
    }
  }

  private static ClusterConfig cluster(ConfigNode c, Map<String, ReceiverConfig> receivers,
                                       List<PipelineConfig> pipelines) {
    c.allowOnly("name", "bind", "advertise_host", "discovery", "event_bus", "virtual_nodes", "forwarding",
        "leave_timeout", "failure_timeout");
    String name = c.string("name", ClusterConfig.DEFAULT_NAME);
    HostPort bind = hostPort(c, "bind", ClusterConfig.DEFAULT_BIND);
    String advertise = c.has("advertise_host") ? c.string("advertise_host", null) : null;
    HostPort eventBus = hostPort(c, "event_bus", new HostPort(bind.host(), 0));
    int vnodes = (int) c.integer("virtual_nodes", ClusterConfig.DEFAULT_VIRTUAL_NODES, 1, 4096);
    Duration leave = c.duration("leave_timeout", ClusterConfig.DEFAULT_LEAVE_TIMEOUT, Duration.ofSeconds(1));
    Duration failure = c.duration("failure_timeout", ClusterConfig.DEFAULT_FAILURE_TIMEOUT, Duration.ofSeconds(2));

    ConfigNode d = c.object("discovery");
    String type = d.has("type") ? d.string("type", null) : null;
    ClusterConfig.Discovery discovery = null;
    if (type == null) {
      d.error(null, "set discovery.type: \"tcp\" (with members) or \"kubernetes\"");
    } else if (type.equals("tcp")) {
      d.allowOnly("type", "members");
      List<String> members = d.stringList("members", List.of());
      for (int i = 0; i < members.size(); i++) {
        try {
          HostPort.parse(members.get(i));
        } catch (IllegalArgumentException e) {
          d.error("members[" + i + "]", e.getMessage());
        }
      }
      discovery = build(d, "members", () -> new ClusterConfig.TcpDiscovery(members));
    } else if (type.equals("kubernetes")) {
      d.allowOnly("type", "namespace", "service_name", "service_dns");
      String ns = d.has("namespace") ? d.string("namespace", null) : null;
      String service = d.has("service_name") ? d.string("service_name", null) : null;
      String dns = d.has("service_dns") ? d.string("service_dns", null) : null;
      discovery = build(d, null, () -> new ClusterConfig.KubernetesDiscovery(ns, service, dns));
    } else {
      d.error("type", "unknown discovery type \"" + type + "\" (known types: kubernetes, tcp)");
    }

    ConfigNode f = c.object("forwarding");
    f.allowOnly("transport", "max_bytes", "batch_max_bytes", "batch_timeout", "timeout", "compression", "receiver",
        "token");
    ClusterConfig.Transport transport = f.enumValue("transport", ClusterConfig.Transport.class,
        ClusterConfig.Transport.EVENT_BUS);
    long maxBytes = f.bytes("max_bytes", ClusterConfig.Forwarding.DEFAULT_MAX_BYTES, 64 * 1024);
    long batchBytes = f.bytes("batch_max_bytes", ClusterConfig.Forwarding.DEFAULT_BATCH_MAX_BYTES, 1024);
    Duration batchTimeout = f.duration("batch_timeout", ClusterConfig.Forwarding.DEFAULT_BATCH_TIMEOUT,
        Duration.ZERO);
    Duration timeout = f.duration("timeout", ClusterConfig.Forwarding.DEFAULT_TIMEOUT, Duration.ofMillis(100));
    boolean compression = switch (f.string("compression", "gzip")) {
      case "gzip" -> true;
      case "none" -> false;
      default -> {
        f.error("compression", "must be \"gzip\" or \"none\"");
        yield true;
      }
    };
    String receiver = f.has("receiver") ? f.string("receiver", null) : null;
    String token = f.has("token") ? f.string("token", null) : null;
    if (receiver != null && !(receivers.get(receiver) instanceof OtlpReceiverConfig orc && orc.grpc() != null)) {
      f.error("receiver", "\"" + receiver + "\" is not an OTLP receiver with a grpc endpoint (receivers: "
          + receivers.keySet() + ")");
    } else if (receiver != null && ((OtlpReceiverConfig) receivers.get(receiver)).grpc().port() == 0) {
      f.error("receiver", "members must know its port in advance; give its grpc endpoint a fixed port");
    }
    ClusterConfig.Forwarding forwarding = build(f, null, () -> new ClusterConfig.Forwarding(transport, maxBytes,
        batchBytes, batchTimeout, timeout, compression, receiver, token));
    boolean sampled = pipelines.stream().anyMatch(p -> p.signal() == dev.telemetry.gateway.otlp.Signal.TRACES);
    if (!sampled) {
      c.error(null, "clustering shares traces between members for tail sampling; configure a traces pipeline");
    }
    if (discovery == null || forwarding == null) {
      return null;
    }
    ClusterConfig.Discovery disc = discovery;
    return build(c, null, () -> new ClusterConfig(name, bind, advertise, disc, eventBus, vnodes, forwarding, leave,
        failure));
  }

  /** Runs a record constructor and turns its validation failure into a config problem at the node's path. */
  private static <T> T build(ConfigNode node, String key, Supplier<T> constructor) {
    try {
      return constructor.get();
    } catch (IllegalArgumentException | NullPointerException e) {
      node.error(key, e.getMessage() == null ? "invalid" : e.getMessage());
      return null;
    }
  }
}
