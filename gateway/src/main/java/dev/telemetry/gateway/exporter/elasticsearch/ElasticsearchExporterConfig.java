package dev.telemetry.gateway.exporter.elasticsearch;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The Elasticsearch logs exporter: bulk {@code create} into data streams {@code logs-<dataset>-<namespace>} through
 * elasticsearch-java, with index templates installed at first use, one of two document mappings, per-item retries
 * and a dead-letter file for documents Elasticsearch rejects for good.
 */
public record ElasticsearchExporterConfig(String name, List<URI> endpoints, Mapping mapping, String dataset,
                                          String namespace, Auth auth, Tls tls, Transport transport,
                                          Duration timeout, Path deadLetterFile, boolean installTemplate,
                                          String templatePattern, int templatePriority, QueueConfig queue,
                                          BatchConfig batch,
                                          RetryConfig retry, DocumentId documentId) implements ExporterConfig {
  public static final String TYPE = "elasticsearch";
  public static final String DEFAULT_DATASET = "generic";
  public static final String DEFAULT_NAMESPACE = "default";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_TEMPLATE_PRIORITY = 200;
  public static final String DEFAULT_TEMPLATE_PATTERN = "logs-*-*";

  /** Document shape: OpenTelemetry-native field names, or Elastic Common Schema. */
  public enum Mapping { OTEL, ECS }

  /**
   * How documents get their {@code _id}: {@code NONE} lets Elasticsearch choose; {@code CONTENT_HASH} derives it from
   * the record, its scope and resource, so a batch sent twice (a retry after a timeout, a replay from a persistent
   * queue after a crash) is indexed once — the second {@code create} answers 409 and counts as already there. Two
   * records identical in every field then also become one document.
   */
  public enum DocumentId { NONE, CONTENT_HASH }

  /** How elasticsearch-java talks HTTP: its own async RestClient, or the gateway's Vert.x HTTP client. */
  public enum Transport { VERTX, REST_CLIENT }

  /** Credentials: an API key (id:key base64, as Kibana shows it) or a user name and password. */
  public record Auth(String apiKey, String username, String password) {
    public Auth {
      boolean key = apiKey != null && !apiKey.isEmpty();
      boolean basic = username != null && !username.isEmpty();
      if (key == basic) {
        throw new IllegalArgumentException("auth: give either api_key or username and password");
      }
      if (basic && (password == null || password.isEmpty())) {
        throw new IllegalArgumentException("auth: username needs a password");
      }
    }

    public String authorizationHeader() {
      if (apiKey != null && !apiKey.isEmpty()) {
        return "ApiKey " + apiKey;
      }
      return "Basic " + java.util.Base64.getEncoder().encodeToString(
          (username + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /**
   * TLS for https endpoints: an extra CA (PEM) to trust, or no verification at all (tests only); a client
   * certificate and its PKCS#8 key for mutual TLS (Elasticsearch's PKI realm).
   */
  public record Tls(Path caFile, boolean insecureSkipVerify, Path certFile, Path keyFile, String serverName) {
    public static final Tls DEFAULTS = new Tls(null, false, null, null, null);

    public Tls(Path caFile, boolean insecureSkipVerify) {
      this(caFile, insecureSkipVerify, null, null, null);
    }

    public Tls {
      if ((certFile == null) != (keyFile == null)) {
        throw new IllegalArgumentException("tls: cert_file and key_file go together (mutual TLS)");
      }
    }
  }

  /** Without {@code document_id} (Elasticsearch chooses the IDs). */
  public ElasticsearchExporterConfig(String name, List<URI> endpoints, Mapping mapping, String dataset,
                                     String namespace, Auth auth, Tls tls, Transport transport, Duration timeout,
                                     Path deadLetterFile, boolean installTemplate, String templatePattern,
                                     int templatePriority, QueueConfig queue, BatchConfig batch, RetryConfig retry) {
    this(name, endpoints, mapping, dataset, namespace, auth, tls, transport, timeout, deadLetterFile, installTemplate,
        templatePattern, templatePriority, queue, batch, retry, DocumentId.NONE);
  }

  public ElasticsearchExporterConfig {
    endpoints = List.copyOf(endpoints);
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("endpoints must not be empty");
    }
    if (!validPart(dataset) || !validPart(namespace)) {
      throw new IllegalArgumentException("dataset and namespace must be lower case, without '-', spaces or "
          + "\\\\/*?\"<>|,#: (got dataset \"" + dataset + "\", namespace \"" + namespace + "\")");
    }
  }

  /** What Elasticsearch allows in a data stream name part (and '-' is the separator). */
  public static boolean validPart(String s) {
    return s != null && !s.isEmpty() && s.length() <= 100 && s.equals(s.toLowerCase(java.util.Locale.ROOT))
        && s.chars().noneMatch(c -> "-\\/*?\"<>| ,#:".indexOf(c) >= 0) && !s.startsWith("_") && !s.startsWith(".");
  }

  @Override
  public String type() {
    return TYPE;
  }

  /** Reads an exporter of type {@value #TYPE}. */
  public static ElasticsearchExporterConfig read(String name, ConfigNode node) {
    int before = node.problems();
    QueueConfig queue = QueueConfig.read(node.object("queue"), QueueConfig.DEFAULTS);
    BatchConfig batch = BatchConfig.read(node.object("batch"));
    RetryConfig retry = RetryConfig.read(node.object("retry"));
    node.allowOnly("type", "endpoints", "mapping", "dataset", "namespace", "auth", "tls", "transport", "timeout",
        "dead_letter_file", "index_template", "document_id", "queue", "batch", "retry");
    DocumentId documentId = node.enumValue("document_id", DocumentId.class, DocumentId.NONE);
    List<URI> endpoints = node.urls("endpoints");
    Mapping mapping = node.enumValue("mapping", Mapping.class, Mapping.OTEL);
    String dataset = node.string("dataset", DEFAULT_DATASET);
    String namespace = node.string("namespace", DEFAULT_NAMESPACE);
    Auth auth = null;
    if (node.has("auth")) {
      ConfigNode a = node.object("auth");
      a.allowOnly("api_key", "username", "password");
      String apiKey = a.string("api_key", "");
      String user = a.string("username", "");
      String password = a.string("password", "");
      auth = a.build(null, () -> new Auth(apiKey, user, password));
    }
    ConfigNode t = node.object("tls");
    t.allowOnly("ca_file", "insecure_skip_verify", "cert_file", "key_file", "server_name");
    String serverName = t.string("server_name", "");
    String ca = t.string("ca_file", "");
    String certFile = t.string("cert_file", "");
    String keyFile = t.string("key_file", "");
    if (certFile.isEmpty() != keyFile.isEmpty()) {
      t.error(certFile.isEmpty() ? "cert_file" : "key_file", "cert_file and key_file go together (mutual TLS)");
    }
    Tls tls = new Tls(ca.isEmpty() ? null : Path.of(ca), t.bool("insecure_skip_verify", false),
        certFile.isEmpty() || keyFile.isEmpty() ? null : Path.of(certFile),
        certFile.isEmpty() || keyFile.isEmpty() ? null : Path.of(keyFile), serverName.isEmpty() ? null : serverName);
    Transport transport = node.enumValue("transport", Transport.class, Transport.VERTX);
    Duration timeout = node.duration("timeout", DEFAULT_TIMEOUT, Duration.ofMillis(1));
    String dlq = node.string("dead_letter_file", "data/dead-letter/" + name + ".jsonl");
    ConfigNode tpl = node.object("index_template");
    tpl.allowOnly("install", "pattern", "priority");
    boolean install = tpl.bool("install", true);
    String pattern = tpl.string("pattern", DEFAULT_TEMPLATE_PATTERN);
    int priority = (int) tpl.integer("priority", DEFAULT_TEMPLATE_PRIORITY, 0, 100_000);
    if (node.problems() > before) {
      return null;
    }
    Auth finalAuth = auth;
    return node.build(null, () -> new ElasticsearchExporterConfig(name, endpoints, mapping, dataset, namespace,
        finalAuth, tls, transport, timeout, Path.of(dlq), install, pattern, priority, queue, batch, retry,
        documentId));
  }
}
