package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
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

/**
 * Reads the gateway's JSON config into {@link GatewayConfig}: environment substitution, the root sections, each
 * component through the reader its type registered ({@link ComponentTypes}), and the cross-references between them
 * (pipelines name existing components that take their signal; listeners and directories are not shared). Every
 * problem is reported with its JSON path; a config with any problem yields no {@code GatewayConfig} at all.
 */
public final class ConfigLoader {
  private final Function<String, String> env;
  private final ComponentTypes types;

  /** {@code types} are the component types the config may name (the gateway's registry provides them). */
  public ConfigLoader(Function<String, String> env, ComponentTypes types) {
    this.env = env;
    this.types = types;
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
        "admin", "logging", "shutdown_timeout", "cluster", "connectors", "slos", "alerting", "anomalies", "forecasts",
        "remediations", "quotas", "auth", "audit");

    Map<String, ConfigNode> receiverNodes = root.object("receivers").entries();
    Map<String, ComponentTypes.Type<ReceiverConfig>> receiverTypes = new LinkedHashMap<>();
    Map<String, ReceiverConfig> receivers = components(receiverNodes, "receiver", types.receivers(),
        ComponentTypes.Type::reader, receiverTypes);
    Map<String, ConfigNode> processorNodes = root.object("processors").entries();
    Map<String, ComponentTypes.Type<ProcessorConfig>> processorTypes = new LinkedHashMap<>();
    Map<String, ProcessorConfig> processors = components(processorNodes, "processor", types.processors(),
        ComponentTypes.Type::reader, processorTypes);
    Map<String, ConfigNode> exporterNodes = root.object("exporters").entries();
    Map<String, ComponentTypes.Type<ExporterConfig>> exporterTypes = new LinkedHashMap<>();
    Map<String, ExporterConfig> exporters = components(exporterNodes, "exporter", types.exporters(),
        ComponentTypes.Type::reader, exporterTypes);
    Map<String, ComponentTypes.ConnectorType> connectorTypes = new LinkedHashMap<>();
    Map<String, ConnectorConfig> connectors = components(uniquelyNamed(root.object("connectors").entries(),
        exporterNodes.keySet(), receiverNodes.keySet()), "connector", types.connectors(),
        ComponentTypes.ConnectorType::reader, connectorTypes);
    // Cross-references are checked against declared names, so a broken component is reported once, not again by
    // every pipeline that uses it.
    List<PipelineConfig> pipelines = pipelines(root.object("pipelines"), receiverNodes.keySet(),
        processorNodes.keySet(), exporterNodes.keySet(), processorTypes, exporterTypes, connectorTypes, errors);
    checkExclusiveDirectories(exporters, root);
    checkDistinctListeners(receivers, root);

    RoutingConfig routing = null;
    if (root.has("routing")) {
      ConfigNode rn = root.object("routing");
      rn.allowOnly("file", "watch_interval", "history");
      String file = rn.string("file", null);
      Duration watch = rn.duration("watch_interval", RoutingConfig.DEFAULT_WATCH_INTERVAL, Duration.ZERO);
      int history = (int) rn.integer("history", RoutingConfig.DEFAULT_HISTORY, 1, 1000);
      if (file != null) {
        routing = rn.build(null, () -> new RoutingConfig(Path.of(file), watch, history));
      }
    }

    ConfigNode ml = root.object("memory_limit");
    ml.allowOnly("max_heap_percent", "check_interval", "charged_heap_percent", "process");
    int maxHeap = (int) ml.integer("max_heap_percent", MemoryLimitConfig.DEFAULTS.maxHeapPercent(), 0, 99);
    Duration check = ml.duration("check_interval", MemoryLimitConfig.DEFAULTS.checkInterval(), Duration.ofMillis(10));
    int charged = (int) ml.integer("charged_heap_percent", MemoryLimitConfig.DEFAULTS.chargedHeapPercent(), 0, 95);
    long process = ml.bytes("process", 0, 0);
    MemoryLimitConfig memoryLimit = ml.build(null, () -> new MemoryLimitConfig(maxHeap, check, charged, process));
    if (memoryLimit == null) {
      memoryLimit = MemoryLimitConfig.DEFAULTS;
    }

    ConfigNode admin = root.object("admin");
    admin.allowOnly("endpoint", "token", "tokens", "tls", "samples");
    int adminSamples = (int) admin.integer("samples", AdminConfig.DEFAULT_SAMPLES, 0, 32);
    HostPort adminEndpoint = admin.hostPort("endpoint", AdminConfig.DEFAULTS.endpoint());
    String token = admin.string("token", "");
    boolean tokenOk = token == null || token.isEmpty() || token.length() >= 16;
    if (!tokenOk) {
      admin.error("token", "must be at least 16 characters (generate one with `openssl rand -hex 32`)");
    }
    java.util.List<AdminConfig.AdminToken> adminTokens = new java.util.ArrayList<>();
    java.util.Set<String> adminTokenNames = new java.util.HashSet<>();
    for (ConfigNode t : admin.objectList("tokens")) {
      t.allowOnly("name", "sha256", "role");
      String name = t.nonBlankString("name");
      if (!t.has("name")) {
        t.error("name", "required: a name for the token (the audit log shows it)");
      } else if (name != null && !adminTokenNames.add(name)) {
        t.error("name", "\"" + name + "\" is used by another token: names must be unique");
      }
      String hash = t.nonBlankString("sha256");
      if (!t.has("sha256") || hash != null && !hash.matches("[0-9a-fA-F]{64}")) {
        t.error("sha256", "required: the token's SHA-256 in hex (`printf %s \"$TOKEN\" | sha256sum`)");
        hash = null;
      }
      AdminConfig.Role role = t.enumValue("role", AdminConfig.Role.class, AdminConfig.Role.READ);
      if (name != null && hash != null) {
        adminTokens.add(new AdminConfig.AdminToken(name, hash.toLowerCase(java.util.Locale.ROOT), role));
      }
    }
    TlsServerConfig adminTls = TlsServerConfig.read(admin, "tls");
    AdminConfig adminConfig = tokenOk ? admin.build(null, () -> new AdminConfig(adminEndpoint,
        token == null || token.isEmpty() ? null : token, adminTokens, adminTls, adminSamples)) : AdminConfig.DEFAULTS;

    ConfigNode logging = root.object("logging");
    logging.allowOnly("level", "format");
    LoggingConfig log = new LoggingConfig(
        logging.enumValue("level", LoggingConfig.Level.class, LoggingConfig.DEFAULTS.level()),
        logging.enumValue("format", LoggingConfig.Format.class, LoggingConfig.DEFAULTS.format()));
    Duration shutdown = root.duration("shutdown_timeout", GatewayConfig.DEFAULT_SHUTDOWN_TIMEOUT, Duration.ZERO);
    ClusterConfig cluster = root.has("cluster") ? cluster(root.object("cluster"), receivers, pipelines) : null;

    SlosConfig slos = root.has("slos") ? SlosConfig.read(root.object("slos")) : null;
    if (slos != null && pipelines.stream().noneMatch(p -> p.signal() == dev.telemetry.gateway.otlp.Signal.METRICS)) {
      root.error("slos", "SLOs are evaluated from the metrics pipeline: add pipelines.metrics (with the span_metrics "
          + "connector among its receivers for availability and latency SLIs)");
    }
    AlertingConfig alerting = root.has("alerting") ? AlertingConfig.read(root.object("alerting"),
        "http://" + adminConfig.endpoint()) : null;
    boolean metricsPipeline = pipelines.stream().anyMatch(p -> p.signal() == dev.telemetry.gateway.otlp.Signal.METRICS);
    AnomaliesConfig anomalies = root.has("anomalies") ? AnomaliesConfig.read(root.object("anomalies")) : null;
    if (anomalies != null && !metricsPipeline) {
      root.error("anomalies", "anomalies are detected on the metrics pipeline: add pipelines.metrics (with the "
          + "span_metrics connector among its receivers for RED series)");
    }
    ForecastsConfig forecasts = root.has("forecasts") ? ForecastsConfig.read(root.object("forecasts")) : null;
    if (forecasts != null && !forecasts.costBudgets().isEmpty() && !metricsPipeline) {
      root.error("forecasts.cost_budgets", "cost forecasts read the gen_ai_metrics connector's projection from the "
          + "metrics pipeline: add pipelines.metrics");
    }
    RemediationsConfig remediations = root.has("remediations")
        ? RemediationsConfig.read(root.object("remediations")) : null;
    QuotasConfig quotas = root.has("quotas") ? QuotasConfig.read(root.object("quotas")) : null;
    if (remediations != null) {
      if (routing == null && remediations.actions().stream().anyMatch(a -> a.quota() == null)) {
        root.error("remediations", "routing_table and sampling remediations change the routing table: configure "
            + "routing (a routing table file)");
      }
      for (RemediationsConfig.Action a : remediations.actions()) {
        if (a.quota() != null && quotas == null) {
          root.errorAt(a.path() + ".tenant_quota", "the gateway has no tenant quotas to raise: add a quotas section");
        }
      }
    }
    AuthConfig auth = root.has("auth") ? AuthConfig.read(root.object("auth")) : null;
    Path audit = null;
    if (root.has("audit")) {
      ConfigNode a = root.object("audit");
      a.allowOnly("file");
      String f = a.nonBlankString("file");
      if (!a.has("file")) {
        a.error("file", "required: where the audit log is appended, e.g. \"/var/lib/telemetry-gateway/audit.jsonl\"");
      }
      audit = f == null ? null : Path.of(f);
    }
    errors.throwIfAny();
    return new GatewayConfig(receivers, processors, exporters, pipelines, routing, memoryLimit, adminConfig, log,
        shutdown, cluster, connectors, slos, alerting, anomalies, forecasts, remediations, quotas, auth, audit);
  }

  /**
   * Reads each named component through the reader its {@code type} selects; one that fails to read is left out
   * (its problems are reported), so pipelines naming it are not reported again.
   */
  private static <C, T> Map<String, C> components(Map<String, ConfigNode> nodes, String kind, Map<String, T> known,
                                                  Function<T, ComponentReader<? extends C>> reader,
                                                  Map<String, T> typeByName) {
    Map<String, C> out = new LinkedHashMap<>();
    nodes.forEach((name, node) -> {
      String type = node.string("type", null);
      if (type == null) {
        return;
      }
      T t = known.get(type);
      if (t == null) {
        node.error("type", "unknown " + kind + " type \"" + type + "\" (known types: "
            + String.join(", ", ComponentTypes.names(known)) + ")");
        return;
      }
      typeByName.put(name, t);
      C c = reader.apply(t).read(name, node);
      if (c != null) {
        out.put(name, c);
      }
    });
    return out;
  }

  /**
   * The connector nodes whose names no receiver or exporter has (pipelines name all three alike); the others are
   * reported.
   */
  private static Map<String, ConfigNode> uniquelyNamed(Map<String, ConfigNode> nodes, Set<String> exporters,
                                                       Set<String> receivers) {
    Map<String, ConfigNode> out = new LinkedHashMap<>();
    nodes.forEach((name, node) -> {
      if (exporters.contains(name) || receivers.contains(name)) {
        node.error(null, "\"" + name + "\" is also the name of " + (exporters.contains(name) ? "an exporter"
            : "a receiver") + "; pipelines name connectors, exporters and receivers alike, so give it another name");
      } else {
        out.put(name, node);
      }
    });
    return out;
  }

  private static List<PipelineConfig> pipelines(ConfigNode node, Set<String> receivers, Set<String> processors,
                                                Set<String> exporters,
                                                Map<String, ComponentTypes.Type<ProcessorConfig>> processorTypes,
                                                Map<String, ComponentTypes.Type<ExporterConfig>> exporterTypes,
                                                Map<String, ComponentTypes.ConnectorType> connectorTypes,
                                                ConfigErrors errors) {
    Set<String> connectorsExported = new HashSet<>();
    Set<String> connectorsReceived = new HashSet<>();
    Set<String> receiversOrConnectors = new HashSet<>(receivers);
    receiversOrConnectors.addAll(connectorTypes.keySet());
    Set<String> exportersOrConnectors = new HashSet<>(exporters);
    exportersOrConnectors.addAll(connectorTypes.keySet());
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
      Signal signal = Signal.fromId(e.getKey());
      ConfigNode p = e.getValue();
      p.allowOnly("receivers", "processors", "exporters");
      int before = errors.count();
      List<String> rs = p.stringList("receivers", null);
      List<String> ps = p.stringList("processors", List.of());
      checkNames(p, "processors", ps, processors, "processor");
      for (int i = 0; ps != null && i < ps.size(); i++) {
        ComponentTypes.Type<ProcessorConfig> pc = processorTypes.get(ps.get(i));
        if (pc == null) {
          continue;
        }
        String what = "processor \"" + ps.get(i) + "\" (" + pc.name() + ")";
        if (!pc.signals().contains(signal)) {
          p.error("processors[" + i + "]", what + " " + takes(pc.signals()));
        } else if (pc.mustComeLast() != null && i != ps.size() - 1) {
          p.error("processors[" + i + "]", what + " must come last: " + pc.mustComeLast());
        }
      }
      List<String> xs = p.stringList("exporters", null);
      String orConnector = connectorTypes.isEmpty() ? "" : " or connector";
      checkNames(p, "receivers", rs, receiversOrConnectors, "receiver" + orConnector);
      checkNames(p, "exporters", xs, exportersOrConnectors, "exporter" + orConnector);
      for (int i = 0; xs != null && i < xs.size(); i++) {
        ComponentTypes.Type<ExporterConfig> x = exporterTypes.get(xs.get(i));
        if (x != null && !x.signals().contains(signal)) {
          p.error("exporters[" + i + "]", "exporter \"" + xs.get(i) + "\" (" + x.name() + ") " + takes(x.signals()));
        }
      }
      connectorSide(p, "exporters", xs, signal, connectorTypes, connectorsExported);
      connectorSide(p, "receivers", rs, signal, connectorTypes, connectorsReceived);
      if (errors.count() == before) {
        PipelineConfig pc = p.build(null, () -> new PipelineConfig(signal, rs, ps, xs));
        if (pc != null) {
          out.add(pc);
        }
      }
    }
    for (Map.Entry<String, ComponentTypes.ConnectorType> c : connectorTypes.entrySet()) {
      ComponentTypes.ConnectorType t = c.getValue();
      if (!connectorsExported.contains(c.getKey()) || !connectorsReceived.contains(c.getKey())) {
        errors.add("connectors." + c.getKey(), "a connector joins two pipelines: list \"" + c.getKey()
            + "\" in " + pipelinesOf(t.from(), "exporters") + " and in pipelines." + t.to().id() + ".receivers");
      }
    }
    return out;
  }

  /**
   * The connectors among a pipeline's {@code exporters} (they take the pipeline's signal) or {@code receivers} (they
   * emit it): noted in {@code listed}, and reported when the signal is not theirs on that side.
   */
  private static void connectorSide(ConfigNode p, String key, List<String> names, Signal signal,
                                    Map<String, ComponentTypes.ConnectorType> connectorTypes, Set<String> listed) {
    boolean exporting = key.equals("exporters");
    for (int i = 0; names != null && i < names.size(); i++) {
      ComponentTypes.ConnectorType c = connectorTypes.get(names.get(i));
      if (c == null) {
        continue;
      }
      listed.add(names.get(i));
      Set<Signal> side = exporting ? c.from() : Set.of(c.to());
      if (!side.contains(signal)) {
        String ids = String.join(" or ", java.util.Arrays.stream(Signal.values()).filter(side::contains)
            .map(Signal::id).toList());
        p.error(key + "[" + i + "]", "connector \"" + names.get(i) + "\" (" + c.name() + ") "
            + (exporting ? "takes " : "emits ") + ids + "; list it in " + pipelinesOf(side, key));
      }
    }
  }

  /** "pipelines.traces.exporters" or "pipelines.traces.exporters or pipelines.metrics.exporters". */
  private static String pipelinesOf(Set<Signal> signals, String key) {
    return String.join(" or ", java.util.Arrays.stream(Signal.values()).filter(signals::contains)
        .map(s -> "pipelines." + s.id() + "." + key).toList());
  }

  /** "takes metrics only; list it in pipelines.metrics" for a component limited to some signals. */
  private static String takes(Set<Signal> signals) {
    List<String> ids = java.util.Arrays.stream(Signal.values()).filter(signals::contains).map(Signal::id).toList();
    String verb = ids.equals(List.of("traces")) ? "samples" : "takes";
    return verb + " " + String.join(" and ", ids) + " only; list it in "
        + String.join(" or ", ids.stream().map(id -> "pipelines." + id).toList());
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

  private static void checkExclusiveDirectories(Map<String, ExporterConfig> exporters, ConfigNode root) {
    Map<Path, String> dirs = new HashMap<>();
    for (ExporterConfig e : exporters.values()) {
      Path dir = e.exclusiveDirectory();
      if (dir != null) {
        String other = dirs.putIfAbsent(dir.toAbsolutePath().normalize(), e.name());
        if (other != null) {
          root.errors().add("exporters." + e.name() + ".directory", "already used by exporter \"" + other
              + "\"; give each " + e.type() + " exporter its own directory");
        }
      }
    }
  }

  private static void checkDistinctListeners(Map<String, ReceiverConfig> receivers, ConfigNode root) {
    Map<Integer, String> ports = new HashMap<>();
    for (ReceiverConfig r : receivers.values()) {
      r.listeners().forEach((key, hp) -> {
        if (hp.port() == 0) {
          return;
        }
        String where = "receivers." + r.name() + "." + key + ".endpoint";
        String other = ports.putIfAbsent(hp.port(), where);
        if (other != null) {
          root.errors().add(where, "port " + hp.port() + " is already used by " + other);
        }
      });
    }
  }

  private static ClusterConfig cluster(ConfigNode c, Map<String, ReceiverConfig> receivers,
                                       List<PipelineConfig> pipelines) {
    c.allowOnly("name", "bind", "advertise_host", "discovery", "event_bus", "virtual_nodes", "forwarding",
        "leave_timeout", "failure_timeout", "replication_factor", "event_bus_tls", "min_members");
    TlsServerConfig eventBusTls = TlsServerConfig.read(c, "event_bus_tls");
    String name = c.string("name", ClusterConfig.DEFAULT_NAME);
    HostPort bind = c.hostPort("bind", ClusterConfig.DEFAULT_BIND);
    String advertise = c.has("advertise_host") ? c.string("advertise_host", null) : null;
    HostPort eventBus = c.hostPort("event_bus", new HostPort(bind.host(), 0));
    int vnodes = (int) c.integer("virtual_nodes", ClusterConfig.DEFAULT_VIRTUAL_NODES, 1, 4096);
    Duration leave = c.duration("leave_timeout", ClusterConfig.DEFAULT_LEAVE_TIMEOUT, Duration.ofSeconds(1));
    Duration failure = c.duration("failure_timeout", ClusterConfig.DEFAULT_FAILURE_TIMEOUT, Duration.ofSeconds(2));
    int replication = (int) c.integer("replication_factor", ClusterConfig.DEFAULT_REPLICATION_FACTOR, 1,
        ClusterConfig.MAX_REPLICATION_FACTOR);
    int minMembers = (int) c.integer("min_members", 1, 1, ClusterConfig.MAX_MIN_MEMBERS);

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
      discovery = d.build("members", () -> new ClusterConfig.TcpDiscovery(members));
    } else if (type.equals("kubernetes")) {
      d.allowOnly("type", "namespace", "service_name", "service_dns");
      String ns = d.has("namespace") ? d.string("namespace", null) : null;
      String service = d.has("service_name") ? d.string("service_name", null) : null;
      String dns = d.has("service_dns") ? d.string("service_dns", null) : null;
      discovery = d.build(null, () -> new ClusterConfig.KubernetesDiscovery(ns, service, dns));
    } else {
      d.error("type", "unknown discovery type \"" + type + "\" (known types: kubernetes, tcp)");
    }

    ConfigNode f = c.object("forwarding");
    f.allowOnly("transport", "max_bytes", "batch_max_bytes", "batch_timeout", "timeout", "compression", "receiver",
        "token", "tls");
    TlsClientConfig forwardTls = TlsClientConfig.read(f, "tls");
    ClusterConfig.Transport transport = f.enumValue("transport", ClusterConfig.Transport.class,
        ClusterConfig.Transport.EVENT_BUS);
    long maxBytes = f.bytes("max_bytes", ClusterConfig.Forwarding.DEFAULT_MAX_BYTES, 64 * 1024);
    long batchBytes = f.bytes("batch_max_bytes", ClusterConfig.Forwarding.DEFAULT_BATCH_MAX_BYTES, 1024);
    Duration batchTimeout = f.duration("batch_timeout", ClusterConfig.Forwarding.DEFAULT_BATCH_TIMEOUT,
        Duration.ZERO);
    Duration timeout = f.duration("timeout", ClusterConfig.Forwarding.DEFAULT_TIMEOUT, Duration.ofMillis(100));
    // Snappy costs a third of gzip's CPU per forwarded span; the gRPC client compresses with gzip only.
    String defaultCompression = transport == ClusterConfig.Transport.EVENT_BUS ? "snappy" : "gzip";
    ClusterConfig.Compression compression = switch (f.string("compression", defaultCompression)) {
      case "snappy" -> ClusterConfig.Compression.SNAPPY;
      case "gzip" -> ClusterConfig.Compression.GZIP;
      case "none" -> ClusterConfig.Compression.NONE;
      default -> {
        f.error("compression", transport == ClusterConfig.Transport.EVENT_BUS
            ? "must be \"snappy\", \"gzip\" or \"none\"" : "must be \"gzip\" or \"none\" with otlp_grpc");
        yield ClusterConfig.Compression.GZIP;
      }
    };
    String receiver = f.has("receiver") ? f.string("receiver", null) : null;
    String token = f.has("token") ? f.string("token", null) : null;
    HostPort forwardGrpc = receiver == null || receivers.get(receiver) == null ? null
        : receivers.get(receiver).listeners().get("grpc");
    if (receiver != null && forwardGrpc == null) {
      f.error("receiver", "\"" + receiver + "\" is not an OTLP receiver with a grpc endpoint (receivers: "
          + receivers.keySet() + ")");
    } else if (receiver != null && forwardGrpc.port() == 0) {
      f.error("receiver", "members must know its port in advance; give its grpc endpoint a fixed port");
    }
    // Forwarding speaks TLS when the receiver it sends to does; with the receiver's client CA it needs a certificate.
    TlsServerConfig receiverTls = receiver == null || receivers.get(receiver) == null ? null
        : receivers.get(receiver).tls("grpc");
    if (receiverTls != null && receiverTls.clientCaFile() != null && forwardTls.certFile() == null) {
      f.error("tls", "the receiver \"" + receiver + "\" requires client certificates (client_ca_file): give the "
          + "members one with tls.cert_file and tls.key_file");
    }
    ClusterConfig.Forwarding forwarding = f.build(null, () -> new ClusterConfig.Forwarding(transport, maxBytes,
        batchBytes, batchTimeout, timeout, compression, receiver, token, receiverTls != null, forwardTls));
    boolean sampled = pipelines.stream().anyMatch(p -> p.signal() == dev.telemetry.gateway.otlp.Signal.TRACES);
    if (!sampled) {
      c.error(null, "clustering shares traces between members for tail sampling; configure a traces pipeline");
    }
    if (discovery == null || forwarding == null) {
      return null;
    }
    ClusterConfig.Discovery disc = discovery;
    return c.build(null, () -> new ClusterConfig(name, bind, advertise, disc, eventBus, vnodes, forwarding, leave,
        failure, replication, eventBusTls, minMembers));
  }
}
