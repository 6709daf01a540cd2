package dev.telemetry.gateway.config;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.exporter.otlp.OtlpExporterConfig;
import dev.telemetry.gateway.exporter.file.FileExporterConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.otlp.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Map<String, String> ENV = Map.of("JAEGER", "http://jaeger:4317", "PORT", "4999");
  final ConfigLoader loader = Components.BUILT_IN.configLoader(ENV::get);

  static String config(String exporters, String pipelines) {
    return """
        {"receivers": {"otlp": {"type": "otlp"}},
         "exporters": %s,
         "pipelines": %s}""".formatted(exporters, pipelines);
  }

  static final String TRACES_TO_JAEGER = "{\"traces\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\"]}}";

  List<String> problems(String json) {
    try {
      loader.parse(json, Path.of("."));
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected the config to be rejected");
  }

  @Test
  void defaultConfigLoadsWithDefaults() throws Exception {
    GatewayConfig c = Components.BUILT_IN.configLoader(name -> null).load(ROOT.resolve("config/gateway.json"));
    OtlpReceiverConfig otlp = (OtlpReceiverConfig) c.receivers().get("otlp");
    assertThat(otlp.grpc()).isEqualTo(new HostPort("localhost", 4317));
    assertThat(otlp.http()).isEqualTo(new HostPort("localhost", 4318));
    assertThat(otlp.maxRequestBytes()).isEqualTo(4L << 20);
    assertThat(otlp.maxDecompressedBytes()).isEqualTo(16L << 20);
    FileExporterConfig file = (FileExporterConfig) c.exporters().get("file");
    assertThat(file.directory()).isEqualTo(Path.of("data/export"));
    assertThat(file.queue()).isEqualTo(QueueConfig.DEFAULTS);
    assertThat(file.batch()).isEqualTo(BatchConfig.DEFAULTS);
    assertThat(file.retry()).isEqualTo(RetryConfig.DEFAULTS);
    assertThat(c.pipelines()).extracting(PipelineConfig::signal)
        .containsExactly(Signal.TRACES, Signal.METRICS, Signal.LOGS);
    assertThat(c.admin().endpoint()).isEqualTo(new HostPort("localhost", 8888));
    assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void exampleConfigLoads() throws Exception {
    GatewayConfig c = Components.BUILT_IN.configLoader(Map.of("ELASTICSEARCH_API_KEY", "k", "REDACTION_HASH_KEY",
        "example-hash-key-0123456789", "GATEWAY_ADMIN_TOKEN", "example-admin-token-0123456789")::get)
        .load(ROOT.resolve("config/examples/jaeger-prometheus-elasticsearch.json"));
    assertThat(c.routingConfig().orElseThrow().file())
        .isEqualTo(java.nio.file.Path.of("config/examples/routing/routes.json"));
    assertThat(c.admin().token()).isEqualTo("example-admin-token-0123456789");
    ElasticsearchExporterConfig es = (ElasticsearchExporterConfig) c.exporters().get("elasticsearch");
    assertThat(es.auth().authorizationHeader()).isEqualTo("ApiKey k");
    assertThat(es.mapping()).isEqualTo(ElasticsearchExporterConfig.Mapping.OTEL);
    assertThat(es.templatePattern()).isEqualTo("logs-*-*");
    OtlpExporterConfig jaeger = (OtlpExporterConfig) c.exporters().get("jaeger");
    assertThat(jaeger.endpoint().toString()).isEqualTo("http://jaeger-collector:4317");
    assertThat(jaeger.headers()).containsEntry("x-scope-orgid", "default");
    assertThat(jaeger.queue().maxBytes()).isEqualTo(256L << 20);
    assertThat(jaeger.retry().maxElapsed()).isEqualTo(Duration.ofMinutes(10));
    assertThat(jaeger.queue().type()).isEqualTo(QueueConfig.Type.PERSISTENT);
    assertThat(jaeger.queue().fsync()).isEqualTo(QueueConfig.Fsync.INTERVAL);
    assertThat(jaeger.queue().deadLetterFile()).isEqualTo(Path.of("/var/lib/telemetry-gateway/dead-letter/jaeger.jsonl"));
    assertThat(c.memoryLimit().maxHeapPercent()).isEqualTo(85);
  }

  @Test
  void queueAndMemoryLimitAreValidated() {
    assertThat(problems(config("""
        {"jaeger": {"type": "otlp", "endpoint": "http://j:4317",
          "queue": {"type": "persistent", "fsync": "sometimes", "when_full": "drop_newest"}}}""",
        TRACES_TO_JAEGER).replaceFirst("\\}$", ", \"memory_limit\": {\"max_heap_percent\": 100}}")))
        .containsExactlyInAnyOrder(
            "exporters.jaeger.queue.directory: is required",
            "exporters.jaeger.queue.fsync: \"sometimes\" is not one of always, interval, never",
            "exporters.jaeger.queue.when_full: \"drop_newest\" is not one of refuse, drop_oldest",
            "memory_limit.max_heap_percent: 100 is out of range [0, 99]");
  }

  @Test
  void connectorsJoinTwoPipelinesAndAreValidatedWithPathsAndFixes() throws Exception {
    String exporters = "{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}, "
        + "\"prom\": {\"type\": \"prometheus_remote_write\", \"endpoint\": \"http://p:9090/api/v1/write\"}}";
    String good = config(exporters, "{\"traces\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\", \"red\"]}, "
        + "\"metrics\": {\"receivers\": [\"red\"], \"exporters\": [\"prom\"]}}");
    String connectors = ", \"connectors\": {\"red\": {\"type\": \"span_metrics\", \"dimensions\": [\"http.route\"]}}}";
    GatewayConfig ok = loader.parse(good.replaceFirst("\\}$", connectors), Path.of("."));
    assertThat(ok.connectors()).containsOnlyKeys("red");
    assertThat(((dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnectorConfig) ok.connectors().get("red"))
        .dimensions()).containsExactly("http.route");
    // Wrong sides, a bad option, and a connector used on one side only.
    String wrong = config(exporters, "{\"traces\": {\"receivers\": [\"otlp\", \"red\"], \"exporters\": [\"jaeger\"]}, "
        + "\"metrics\": {\"receivers\": [\"otlp\"], \"exporters\": [\"prom\", \"red\"]}}");
    assertThat(problems(wrong.replaceFirst("\\}$", ", \"connectors\": {\"red\": {\"type\": \"span_metrics\", "
        + "\"buckets_ms\": [5, 2]}, \"spare\": {\"type\": \"span_metrics\"}, \"x\": {\"type\": \"graph\"}}}")))
        .containsExactlyInAnyOrder(
            "connectors.red.buckets_ms[1]: expected a number above 0 and above the one before it, found 2",
            "connectors.x.type: unknown connector type \"graph\" (known types: gen_ai_metrics, service_graph, span_metrics)",
            "pipelines.traces.receivers[1]: connector \"red\" (span_metrics) emits metrics; list it in "
                + "pipelines.metrics.receivers",
            "pipelines.metrics.exporters[1]: connector \"red\" (span_metrics) takes traces; list it in "
                + "pipelines.traces.exporters",
            "connectors.spare: a connector joins two pipelines: list \"spare\" in pipelines.traces.exporters and in "
                + "pipelines.metrics.receivers");
    // gen_ai_metrics takes traces and metrics (it prices SDK token usage metrics too), never logs.
    String genai = config(exporters, "{\"traces\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\", \"ai\"]}, "
        + "\"metrics\": {\"receivers\": [\"otlp\", \"ai\"], \"exporters\": [\"prom\", \"ai\"]}}");
    assertThat(loader.parse(genai.replaceFirst("\\}$", ", \"connectors\": {\"ai\": {\"type\": \"gen_ai_metrics\", "
        + "\"allocation_attributes\": [\"team\"]}}}"), Path.of(".")).connectors()).containsOnlyKeys("ai");
    String toLogs = config(exporters, "{\"traces\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\", \"g\"]}, "
        + "\"metrics\": {\"receivers\": [\"otlp\", \"g\", \"ai\"], \"exporters\": [\"prom\", \"g\"]}, "
        + "\"logs\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\", \"ai\"]}}");
    assertThat(problems(toLogs.replaceFirst("\\}$", ", \"connectors\": {\"ai\": {\"type\": \"gen_ai_metrics\", "
        + "\"histogram\": \"exponential\"}, \"g\": {\"type\": \"service_graph\", \"histogram\": \"exponential\", "
        + "\"buckets_seconds\": [1], \"wait\": \"1ms\"}}}"))).containsExactlyInAnyOrder(
            "connectors.ai.histogram: unknown key (known keys here: allocation_attributes, cardinality_limit, expiry, "
                + "flush_interval, price_table, reload_interval, state_file, tenant_attribute, type)",
            "connectors.g.buckets_seconds: explicit bounds do not apply to an exponential histogram; remove "
                + "buckets_seconds or set \"histogram\": \"explicit\"",
            "connectors.g.wait: must be at least 100ms, found 1ms",
            "pipelines.logs.exporters[1]: connector \"ai\" (gen_ai_metrics) takes traces or metrics; list it in "
                + "pipelines.traces.exporters or pipelines.metrics.exporters",
            "pipelines.metrics.exporters[1]: connector \"g\" (service_graph) takes traces; list it in "
                + "pipelines.traces.exporters");
    // SLOs read the metrics pipeline; alerting needs an Alertmanager.
    String tracesOnly = config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}}",
        "{\"traces\": {\"receivers\": [\"otlp\"], \"exporters\": [\"jaeger\"]}}");
    assertThat(problems(tracesOnly.replaceFirst("\\}$", ", \"slos\": {\"file\": \"slos.json\", "
        + "\"evaluation_interval\": \"10ms\"}, \"alerting\": {\"alertmanagers\": [], \"colour\": 1}}")))
        .containsExactlyInAnyOrder(
            "slos.evaluation_interval: must be at least 1000ms, found 10ms",
            "slos: SLOs are evaluated from the metrics pipeline: add pipelines.metrics (with the span_metrics "
                + "connector among its receivers for availability and latency SLIs)",
            "alerting.colour: unknown key (known keys here: alertmanagers, external_url, history_file, max_pending, "
                + "resend_interval, timeout)",
            "alerting.alertmanagers: required: one or more Alertmanager base URLs, e.g. "
                + "[\"http://alertmanager:9093\"]");
    // A connector named like an exporter: pipelines could not tell them apart.
    assertThat(problems(good.replaceFirst("\\}$", ", \"connectors\": {\"red\": {\"type\": \"span_metrics\"}, "
        + "\"prom\": {\"type\": \"span_metrics\"}}}"))).containsExactly(
            "connectors.prom: \"prom\" is also the name of an exporter; pipelines name connectors, exporters and "
                + "receivers alike, so give it another name");
  }

  @Test
  void clusterIsValidatedWithPathsAndFixes() throws Exception {
    String base = config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}}", TRACES_TO_JAEGER);
    assertThat(problems(base.replaceFirst("\\}$", ", \"cluster\": {\"virtual_nodes\": 0, \"replication_factor\": 9, "
        + "\"discovery\": "
        + "{\"type\": \"tcp\", \"members\": [\"nohost\"]}, \"forwarding\": {\"transport\": \"otlp_grpc\", "
        + "\"receiver\": \"otlp\", \"compression\": \"zstd\"}}}"))).containsExactlyInAnyOrder(
            "cluster.virtual_nodes: 0 is out of range [1, 4096]",
            "cluster.replication_factor: 9 is out of range [1, 5]",
            "cluster.discovery.members[0]: not host:port: \"nohost\" (e.g. \"localhost:4317\" or \"0.0.0.0:4317\")",
            "cluster.forwarding.compression: must be \"gzip\" or \"none\" with otlp_grpc",
            "cluster.forwarding: token: otlp_grpc forwarding needs a shared token of at least 16 characters "
                + "(generate one with `openssl rand -hex 32`)");
    assertThat(problems(base.replaceFirst("\\}$", ", \"cluster\": {\"min_members\": 3, \"discovery\": "
        + "{\"type\": \"tcp\", \"members\": [\"a:5701\", \"b:5701\"]}}}"))).containsExactly(
            "cluster: min_members: 3 is more than the 2 members in discovery.members — no member could ever take "
                + "traces; use a majority of them (e.g. 2)");
    assertThat(problems(base.replaceFirst("\\}$", ", \"cluster\": {\"min_members\": 0, \"discovery\": "
        + "{\"type\": \"tcp\", \"members\": [\"a:5701\"]}}}"))).containsExactly(
            "cluster.min_members: 0 is out of range [1, 1000]");
    assertThat(problems(base.replaceFirst("\\}$", ", \"cluster\": {\"discovery\": {}}}"))).containsExactly(
        "cluster.discovery: set discovery.type: \"tcp\" (with members) or \"kubernetes\"");
    assertThat(problems(base.replaceFirst("\\}$", ", \"cluster\": {\"discovery\": {\"type\": \"kubernetes\", "
        + "\"service_name\": \"gw\", \"service_dns\": \"gw.ns.svc\"}}}"))).containsExactly(
            "cluster.discovery: set exactly one of service_name (Kubernetes API) and service_dns (DNS)");
    GatewayConfig c = loader.parse(base.replaceFirst("\\}$", ", \"cluster\": {\"discovery\": {\"type\": "
        + "\"kubernetes\", \"namespace\": \"obs\", \"service_name\": \"gateway\"}, \"bind\": \"0.0.0.0:5701\", "
        + "\"advertise_host\": \"10.0.0.7\"}}"), Path.of("."));
    ClusterConfig cc = c.clusterConfig().orElseThrow();
    assertThat(cc.discovery()).isEqualTo(new ClusterConfig.KubernetesDiscovery("obs", "gateway", null));
    assertThat(cc.forwarding().transport()).isEqualTo(ClusterConfig.Transport.EVENT_BUS);
    assertThat(cc.forwarding().compression()).isEqualTo(ClusterConfig.Compression.SNAPPY);
    assertThat(cc.advertisedHost()).isEqualTo("10.0.0.7");
    assertThat(cc.virtualNodes()).isEqualTo(ClusterConfig.DEFAULT_VIRTUAL_NODES);
    assertThat(loader.parse(base, Path.of(".")).clusterConfig()).isEmpty();

    // The gRPC client compresses with gzip only: that is its default, and snappy is refused with the reason.
    String grpc = base.replaceFirst("\\}$", ", \"cluster\": {\"discovery\": {\"type\": \"tcp\", \"members\": "
        + "[\"a:5701\"]}, \"forwarding\": {\"transport\": \"otlp_grpc\", \"receiver\": \"otlp\", "
        + "\"token\": \"0123456789abcdef0123\"COMPRESSION}}}");
    assertThat(problems(grpc.replace("COMPRESSION", ", \"compression\": \"snappy\""))).containsExactly(
        "cluster.forwarding: compression: otlp_grpc forwarding sends gzip or none (snappy is for the event_bus "
            + "transport)");
    assertThat(loader.parse(grpc.replace("COMPRESSION", ""), Path.of(".")).clusterConfig().orElseThrow()
        .forwarding().compression()).isEqualTo(ClusterConfig.Compression.GZIP);
  }

  @Test
  void routingAndAdminTokenAreValidated() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}}",
        TRACES_TO_JAEGER).replaceFirst("\\}$", ", \"routing\": {\"watch_interval\": \"soon\"}, "
        + "\"admin\": {\"token\": \"short\"}}"))).containsExactlyInAnyOrder(
            "routing.file: is required",
            "routing.watch_interval: expected a duration such as \"500ms\", \"5s\" or \"2m\", found \"soon\"",
            "admin.token: must be at least 16 characters (generate one with `openssl rand -hex 32`)");
  }

  @Test
  void endpointThatIsNotAUrlNamesThePath() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"localhost\"}}", TRACES_TO_JAEGER)))
        .singleElement().asString()
        .startsWith("exporters.jaeger.endpoint: not a URL: \"localhost\"");
  }

  @Test
  void unknownTypeListsTheKnownOnes() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"zipkin\"}}", TRACES_TO_JAEGER)))
        .contains("exporters.jaeger.type: unknown exporter type \"zipkin\" (known types: elasticsearch, file, otlp, prometheus_remote_write)");
  }

  @Test
  void unknownKeysAreReportedWithTheKnownOnes() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\", \"timout\": \"1s\"}}",
        TRACES_TO_JAEGER)))
        .singleElement().asString()
        .startsWith("exporters.jaeger.timout: unknown key (known keys here: batch, compression, endpoint, headers,");
  }

  @Test
  void environmentSubstitution() throws Exception {
    GatewayConfig c = loader.parse(config(
        "{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"${env:JAEGER}\", \"headers\": "
            + "{\"a\": \"${env:MISSING:-fallback}\", \"b\": \"$${env:JAEGER}\"}, \"queue\": {\"max_items\": \"${env:PORT}\"}}}",
        TRACES_TO_JAEGER), Path.of("."));
    OtlpExporterConfig j = (OtlpExporterConfig) c.exporters().get("jaeger");
    assertThat(j.endpoint().toString()).isEqualTo("http://jaeger:4317");
    assertThat(j.headers()).containsEntry("a", "fallback").containsEntry("b", "${env:JAEGER}");
    assertThat(j.queue().maxItems()).isEqualTo(4999);
  }

  @Test
  void missingEnvironmentVariableIsAnError() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"${env:NOPE}\"}}", TRACES_TO_JAEGER)))
        .contains("exporters.jaeger.endpoint: environment variable NOPE is not set (set it, or give a default: "
            + "${env:NOPE:-value})");
  }

  @Test
  void pipelinesMustNameDefinedComponents() {
    assertThat(problems(config("{\"jaeger\": {\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}}",
        "{\"traces\": {\"receivers\": [\"otlp\", \"zipkin\"], \"exporters\": [\"jaegr\"]}, \"profiles\": {}}")))
        .containsExactlyInAnyOrder(
            "pipelines.profiles: unknown key (known keys here: logs, metrics, traces)",
            "pipelines.traces.receivers[1]: no receiver named \"zipkin\" (defined: otlp)",
            "pipelines.traces.exporters[0]: no exporter named \"jaegr\" (defined: jaeger)");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    List<String> p = problems("""
        {"receivers": {"otlp": {"type": "otlp", "max_request_bytes": "lots", "retry_after": "5 minutes"}},
         "exporters": {"f": {"type": "file", "directory": "d", "batch": {"timeout": 200},
                             "queue": {"concurrency": 0}}},
         "pipelines": {"logs": {"receivers": [], "exporters": ["f"]}},
         "logging": {"level": "verbose"}}""");
    assertThat(p).containsExactlyInAnyOrder(
        "receivers.otlp.max_request_bytes: expected a size such as 4194304 or \"4MiB\", found \"lots\"",
        "receivers.otlp.retry_after: expected a duration such as \"500ms\", \"5s\" or \"2m\", found \"5 minutes\"",
        "exporters.f.queue.concurrency: 0 is out of range [1, 256]",
        "exporters.f.batch.timeout: expected a duration such as \"500ms\", \"5s\" or \"2m\", found 200",
        "pipelines.logs.receivers: must not be empty",
        "logging.level: \"verbose\" is not one of debug, info, warn, error");
  }

  @Test
  void recordInvariantsAreReportedAtTheirPath() {
    assertThat(problems("""
        {"receivers": {"otlp": {"type": "otlp", "max_request_bytes": "8MiB", "max_decompressed_bytes": "1MiB"}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["f"]}}}""")).containsExactly(
        "receivers.otlp: max_decompressed_bytes (1048576) must be at least max_request_bytes (8388608)");
  }

  @Test
  void listenersMustNotShareAPortAndFileExportersNotADirectory() {
    assertThat(problems("""
        {"receivers": {"a": {"type": "otlp"}, "b": {"type": "otlp", "http": false, "grpc": {"endpoint": "0.0.0.0:4317"}}},
         "exporters": {"f": {"type": "file", "directory": "d"}, "g": {"type": "file", "directory": "./d"}},
         "pipelines": {"logs": {"receivers": ["a", "b"], "exporters": ["f", "g"]}}}""")).containsExactlyInAnyOrder(
        "receivers.b.grpc.endpoint: port 4317 is already used by receivers.a.grpc.endpoint",
        "exporters.g.directory: already used by exporter \"f\"; give each file exporter its own directory");
  }

  @Test
  void invalidJsonAndMissingFile() {
    assertThat(problems("{\"receivers\": ")).singleElement().asString().startsWith("(root): not valid JSON");
    assertThatThrownBy(() -> loader.load(Path.of("no/such/gateway.json")))
        .hasMessage("no/such/gateway.json: no such file");
  }

  @Test
  void prometheusExporterDefaultsAndRules() throws Exception {
    String prom = "{\"prom\": {\"type\": \"prometheus_remote_write\", \"endpoint\": \"http://p:9090/api/v1/write\"}}";
    GatewayConfig c = loader.parse(config(prom, "{\"metrics\": {\"receivers\": [\"otlp\"], \"exporters\": [\"prom\"]}}"),
        Path.of("."));
    PrometheusRemoteWriteExporterConfig p = (PrometheusRemoteWriteExporterConfig) c.exporters().get("prom");
    assertThat(p.queue().concurrency()).isEqualTo(1);
    assertThat(p.shards()).isEqualTo(4);
    assertThat(p.maxSamplesPerSend()).isEqualTo(2000);
    assertThat(p.addMetricSuffixes()).isTrue();

    assertThat(problems(config(prom, TRACES_TO_JAEGER.replace("jaeger", "prom")))).containsExactly(
        "pipelines.traces.exporters[0]: exporter \"prom\" (prometheus_remote_write) takes metrics only; "
            + "list it in pipelines.metrics");
    assertThat(problems(config("{\"prom\": {\"type\": \"prometheus_remote_write\", \"endpoint\": \"http://p:9/w\","
        + " \"queue\": {\"concurrency\": 4}, \"external_labels\": {\"bad-label\": \"x\"}}}",
        "{\"metrics\": {\"receivers\": [\"otlp\"], \"exporters\": [\"prom\"]}}")))
        .singleElement().asString().startsWith("exporters.prom: queue.concurrency must be 1 for prometheus_remote_write");
  }

  @Test
  void elasticsearchRules() {
    String logs = "{\"logs\": {\"receivers\": [\"otlp\"], \"exporters\": [\"es\"]}}";
    assertThat(problems(config("{\"es\": {\"type\": \"elasticsearch\", \"endpoints\": [\"es:9200\"], "
        + "\"dataset\": \"My-App\", \"auth\": {\"username\": \"u\"}}}", logs))).containsExactlyInAnyOrder(
        "exporters.es.endpoints[0]: not a URL: \"es:9200\" (expected http://host:port, or https://host:port for TLS)",
        "exporters.es.auth: auth: username needs a password");
    assertThat(problems(config("{\"es\": {\"type\": \"elasticsearch\", \"endpoints\": [\"http://es:9200\"], "
        + "\"dataset\": \"My-App\"}}", logs))).singleElement().asString()
        .startsWith("exporters.es: dataset and namespace must be lower case");
    assertThat(problems(config("{\"es\": {\"type\": \"elasticsearch\", \"endpoints\": [\"http://es:9200\"]}}",
        TRACES_TO_JAEGER.replace("jaeger", "es")))).containsExactly(
        "pipelines.traces.exporters[0]: exporter \"es\" (elasticsearch) takes logs only; list it in pipelines.logs");
  }

  @Test
  void processorsAreValidatedAndReferencedByName() throws Exception {
    String base = """
        {"receivers": {"otlp": {"type": "otlp"}},
         "processors": %s,
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "processors": %s, "exporters": ["f"]}}}""";
    GatewayConfig ok = loader.parse(base.formatted("""
        {"enrich": {"type": "enrichment", "host": true, "resource": {"insert": {"env": "prod"}},
          "lookups": [{"file": "teams.csv", "key": "service.name", "target": "items", "reload_interval": "30s"}]}}""",
        "[\"enrich\"]"), Path.of("."));
    assertThat(ok.pipeline(Signal.LOGS).orElseThrow().processors()).containsExactly("enrich");
    EnrichmentProcessorConfig e = (EnrichmentProcessorConfig) ok.processors().get("enrich");
    assertThat(e.lookups().get(0).target()).isEqualTo(EnrichmentProcessorConfig.Target.ITEMS);
    assertThat(e.resource().insert()).containsEntry("env", "prod");

    assertThat(problems(base.formatted("""
        {"x": {"type": "sampler"},
         "e": {"type": "enrichment", "lookups": [{"file": "teams.xml", "key": "service.name"}, {"key": "k"}]}}""",
        "[\"e\", \"missing\"]"))).containsExactlyInAnyOrder(
        "processors.x.type: unknown processor type \"sampler\" (known types: enrichment, redaction, "
            + "tail_sampling)",
        "processors.e.lookups[0]: lookup file must end in .csv or .json: teams.xml",
        "processors.e.lookups[1].file: is required",
        "pipelines.logs.processors[1]: no processor named \"missing\" (defined: e, x)");
  }

  @Test
  void redactionRulesAreValidated() {
    String base = """
        {"receivers": {"otlp": {"type": "otlp"}},
         "processors": {"pii": %s},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "processors": ["pii"], "exporters": ["f"]}}}""";
    assertThat(problems(base.formatted("""
        {"type": "redaction", "rules": [
          {"name": "a", "detector": "passport"},
          {"name": "b", "pattern": "(?<=x)y"},
          {"name": "c", "detector": "email", "pattern": "x"},
          {"name": "c", "detector": "email", "signals": ["profiles"]}]}"""))).containsExactlyInAnyOrder(
        "processors.pii.rules[0]: rule \"a\": unknown detector \"passport\" (known detectors: api_key, bearer_token, "
            + "credit_card, email, iban, ipv4, ipv6, jwt, phone, us_ssn)",
        "processors.pii.rules[1]: rule \"b\": invalid RE2 pattern: error parsing regexp: invalid named capture: "
            + "`(?<=x)y` (RE2 matches in linear time, so it has no lookaround or backreferences)",
        "processors.pii.rules[2]: rule \"c\": give exactly one of detector and pattern",
        "processors.pii.rules[3].name: rule name \"c\" is used twice",
        "processors.pii.rules[3].signals: \"profiles\" is not one of traces, metrics, logs");
    assertThat(problems(base.formatted("""
        {"type": "redaction", "rules": [{"name": "cards", "detector": "credit_card", "action": "hash"}]}""")))
        .singleElement().asString().startsWith("processors.pii: hash_key: the hash action needs a secret");
  }

  @Test
  void tailSamplingMustBeLastInATracesPipeline() {
    String base = """
        {"receivers": {"otlp": {"type": "otlp"}},
         "processors": {"ts": {"type": "tail_sampling", "policies": [
             {"name": "slow", "type": "latency"},
             {"name": "p", "type": "probabilistic", "percentage": 150},
             {"name": "c", "type": "composite", "spans_per_second": 100, "shares": [60],
              "policies": [{"name": "a", "type": "always_sample"}, {"name": "b", "type": "always_sample"}]}]},
           "e": {"type": "enrichment"}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["ts", "e"], "exporters": ["f"]},
                       "logs": {"receivers": ["otlp"], "processors": ["ts"], "exporters": ["f"]}}}""";
    assertThat(problems(base)).containsExactlyInAnyOrder(
        "processors.ts.policies[0].threshold: is required (e.g. \"2s\")",
        "processors.ts.policies[1].percentage: 150.0 is out of range [0.0, 100.0]",
        "processors.ts.policies[2].shares: give one share (percent) per sub-policy: 2 policies, 1 shares",
        "pipelines.traces.processors[0]: processor \"ts\" (tail_sampling) must come last: it holds spans and "
            + "releases whole traces to the exporters",
        "pipelines.logs.processors[0]: processor \"ts\" (tail_sampling) samples traces only; list it in "
            + "pipelines.traces");
  }

  @Test
  void badHostPort() {
    assertThat(problems("""
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "4317"}}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["f"]}}}""")).containsExactly(
        "receivers.otlp.grpc.endpoint: not host:port: \"4317\" (e.g. \"localhost:4317\" or \"0.0.0.0:4317\")");
  }

  @Test
  void newSamplingPoliciesLoadAndTheirMistakesNameTheirPaths() throws Exception {
    String base = """
        {"receivers": {"otlp": {"type": "otlp"}},
         "processors": {"ts": {"type": "tail_sampling", "policies": %s}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["ts"], "exporters": ["f"]}}}""";
    GatewayConfig c = loader.parse(base.formatted("""
        [{"name": "head", "type": "trace_flags"},
         {"name": "bytes", "type": "bytes_limiting", "bytes_per_second": "1MiB"},
         {"name": "slow", "type": "ottl_condition", "span": ["attributes[\\"http.route\\"] == \\"/pay\\""]}]"""),
        Path.of("."));
    TailSamplingProcessorConfig ts = (TailSamplingProcessorConfig) c.processors().get("ts");
    assertThat(ts.policies()).extracting(p -> p.type()).containsExactly("trace_flags", "bytes_limiting",
        "ottl_condition");
    assertThat(ts.policies().get(1)).isEqualTo(new dev.telemetry.gateway.processor.sampling.SamplingPolicy
        .BytesLimiting("bytes", 1024 * 1024, 2 * 1024 * 1024));
    assertThat(ts.attributeKeys()).containsExactly("http.route");

    assertThat(problems(base.formatted("""
        [{"name": "b", "type": "bytes_limiting"},
         {"name": "o", "type": "ottl_condition", "span": ["kind == SPAN_KIND_SERVER", "name = \\"x\\""]},
         {"name": "f", "type": "trace_flags", "sampled": "yes"},
         {"name": "u", "type": "head_sampling"}]"""))).containsExactly(
        "processors.ts.policies[0].bytes_per_second: is required (e.g. \"1MiB\")",
        "processors.ts.policies[1].span[1]: column 6: unexpected '= \"x\"' (join conditions with and / or) in "
            + "name = \"x\"",
        "processors.ts.policies[2].sampled: expected true or false, found \"yes\"",
        "processors.ts.policies[3].type: unknown policy type \"head_sampling\" (known types: always_sample, latency, "
            + "status_code, probabilistic, string_attribute, numeric_attribute, boolean_attribute, span_count, "
            + "trace_state, trace_flags, ottl_condition, rate_limiting, bytes_limiting, and, drop, composite)");
  }

  @Test
  void pathsQuoteKeysThatAreNotPlainNames() {
    assertThat(problems("""
        {"receivers": {"otlp": {"type": "otlp"}},
         "processors": {"env-facts": {"type": "enrichment", "resource": {"insert": {"deployment.environment": 5}}}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "processors": ["env-facts"], "exporters": ["f"]}}}"""))
        .containsExactly("processors.env-facts.resource.insert[\"deployment.environment\"]: expected a string, "
            + "found 5");
  }

  @Test
  void theHeapLedgerMustFitUnderTheGuard() throws Exception {
    String base = """
        {"receivers": {"otlp": {"type": "otlp"}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["f"]}},
         "memory_limit": %s}""";
    assertThat(problems(base.formatted("{\"max_heap_percent\": 50, \"charged_heap_percent\": 70}")))
        .singleElement().asString().startsWith("memory_limit: charged_heap_percent (70) must not be above "
            + "max_heap_percent (50)");
    GatewayConfig c = loader.parse(base.formatted("{\"charged_heap_percent\": 0}"), Path.of("."));
    assertThat(c.memoryLimit().chargedLimit(1L << 30)).isEqualTo(Long.MAX_VALUE);
    assertThat(MemoryLimitConfig.DEFAULTS.chargedLimit(100L << 20)).isEqualTo(60L << 20);
  }
}
