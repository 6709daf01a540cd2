package dev.telemetry.gateway.exporter.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.indices.PutIndexTemplateRequest;
import co.elastic.clients.util.BinaryData;
import com.google.protobuf.Message;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import dev.telemetry.gateway.exporter.DeadLetter;
import dev.telemetry.gateway.exporter.DeadLetterFile;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.logging.RateLimitedLog;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * OTLP logs to Elasticsearch data streams through elasticsearch-java's async client: one {@code _bulk} of
 * {@code create} operations per batch, documents pre-serialized by the chosen {@link LogDocumentMapper}.
 *
 * <p>Per item: 2xx is done; 429 and 5xx stay for the retry, which the queue drives with backoff — so Elasticsearch
 * back-pressure reaches the receivers through the queue bound; any other status (mapping conflicts and the like) goes
 * to the dead-letter file with Elasticsearch's reason. A retried batch resends only the documents still pending.
 * Client callbacks may arrive on the client's own threads; they are brought back to the exporter's context.
 */
public final class ElasticsearchExporter implements Exporter {
  private static final Logger LOG = Logger.getLogger(ElasticsearchExporter.class.getName());
  static final int TEMPLATE_VERSION = 1;

  private final Vertx vertx;
  private final ElasticsearchExporterConfig config;
  private final LogDocumentMapper mapper;
  private final RateLimitedLog log = new RateLimitedLog(LOG, 10_000);
  private final Counter bulkRequests;
  private final Counter deadLettered;
  private final Counter alreadyIndexed;
  private final Counter itemRetries;
  private final List<Pending> pending = new ArrayList<>();
  private ElasticsearchAsyncClient client;
  private DeadLetterFile deadLetters;
  private Context context;
  /** The template install in progress or done; reset on failure so that the next export tries again. */
  private Future<Void> template;

  public ElasticsearchExporter(Vertx vertx, ElasticsearchExporterConfig config, MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.mapper = config.mapping() == ElasticsearchExporterConfig.Mapping.ECS ? new EcsDocumentMapper()
        : new OtelDocumentMapper();
    Tags tags = Tags.of("exporter", config.name());
    bulkRequests = Counter.builder("gateway.exporter.elasticsearch.bulk.requests")
        .description("_bulk requests sent").tags(tags).register(registry);
    alreadyIndexed = Counter.builder("gateway.exporter.elasticsearch.documents.already.indexed")
        .description("Documents Elasticsearch already had (409 on create): duplicates a content-derived _id absorbed")
        .tag("exporter", config.name()).register(registry);
    deadLettered = Counter.builder("gateway.exporter.elasticsearch.documents.dead.lettered")
        .description("Documents Elasticsearch rejected for good, written to the dead-letter file").tags(tags)
        .register(registry);
    itemRetries = Counter.builder("gateway.exporter.elasticsearch.documents.retried")
        .description("Documents answered 429/5xx and kept for a retry").tags(tags).register(registry);
  }

  /** A document waiting to be indexed. */
  private record Doc(String index, byte[] source, String id) {
  }

  /** The documents of one batch not yet indexed or dead-lettered. */
  private record Pending(Message request, List<Doc> docs) {
  }

  @Override
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    client = ElasticsearchClients.create(vertx, config);
    deadLetters = new DeadLetterFile(vertx, config.deadLetterFile(), config.name());
    // Not fatal: Elasticsearch may be down at startup; the first export retries the template.
    ensureTemplate().onFailure(e -> LOG.warning("exporter " + config.name() + ": index template not installed yet: "
        + e.getMessage()));
    return Future.succeededFuture();
  }

  /** One template per exporter, so that two exporters (say, one per mapping) can own different patterns. */
  String templateName() {
    return "telemetry-gateway-" + config.name().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
  }

  JsonObject templateBody() {
    return new JsonObject()
        .put("index_patterns", new io.vertx.core.json.JsonArray().add(config.templatePattern()))
        .put("priority", config.templatePriority())
        .put("data_stream", new JsonObject())
        .put("_meta", new JsonObject().put("managed_by", "telemetry-gateway").put("version", TEMPLATE_VERSION)
            .put("mapping", config.mapping().name().toLowerCase(java.util.Locale.ROOT)))
        .put("template", new JsonObject()
            .put("settings", new JsonObject().put("index", new JsonObject().put("mapping", new JsonObject()
                .put("total_fields", new JsonObject().put("limit", 5000)))))
            .put("mappings", mapper.mappings()));
  }

  private <T> Future<T> onContext(CompletableFuture<T> cf) {
    return Future.fromCompletionStage(cf, context);
  }

  private Future<Void> ensureTemplate() {
    if (template != null && !template.failed()) {
      return template; // done, or in flight: share it
    }
    Future<Void> f;
    if (config.installTemplate()) {
      PutIndexTemplateRequest req = PutIndexTemplateRequest.of(b -> b.name(templateName())
          .withJson(new StringReader(templateBody().encode())));
      f = onContext(client.indices().putIndexTemplate(req)).mapEmpty();
    } else {
      f = onContext(client.indices().existsIndexTemplate(b -> b.name(templateName()))).compose(exists -> exists.value()
          ? Future.succeededFuture() : Future.failedFuture(new IllegalStateException("index template "
          + templateName() + " does not exist and index_template.install is false")));
    }
    template = f.onSuccess(v -> LOG.info("exporter " + config.name() + ": index template " + templateName()
        + " ready"));
    return template;
  }

  @Override
  public Future<ExportResult> export(Message request, int items) {
    Pending p = pendingFor(request);
    return ensureTemplate()
        .recover(e -> Future.failedFuture(ExportException.retryable("template", "cannot install index template "
            + templateName() + ": " + e.getMessage(), null)))
        .compose(v -> bulk(p));
  }

  /** A 128-bit ID from the record with its scope and resource: equal content, equal ID. */
  private static String contentId(ResourceLogs rl, ScopeLogs sl, LogRecord r) {
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      sha.update(rl.getResource().toByteArray());
      sha.update(rl.getSchemaUrlBytes().asReadOnlyByteBuffer());
      sha.update(sl.getScope().toByteArray());
      sha.update(r.toByteArray());
      return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(sha.digest(),
          16));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  private Pending pendingFor(Message request) {
    for (Pending p : pending) {
      if (p.request() == request) {
        return p;
      }
    }
    List<Doc> docs = new ArrayList<>();
    for (ResourceLogs rl : ((ExportLogsServiceRequest) request).getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          DataStreams.Target t = DataStreams.resolve(r.getAttributesList(), rl.getResource().getAttributesList(),
              config.dataset(), config.namespace());
          docs.add(new Doc(t.name(), mapper.document(rl, sl, r, t),
              config.documentId() == ElasticsearchExporterConfig.DocumentId.CONTENT_HASH ? contentId(rl, sl, r)
                  : null));
        }
      }
    }
    Pending p = new Pending(request, docs);
    pending.add(p);
    if (pending.size() > 4L * config.queue().concurrency() + 4) {
      pending.remove(0); // batches the queue has given up on
    }
    return p;
  }

  private Future<ExportResult> bulk(Pending p) {
    List<Doc> docs = p.docs();
    if (docs.isEmpty()) {
      pending.remove(p);
      return Future.succeededFuture(ExportResult.OK);
    }
    List<BulkOperation> ops = new ArrayList<>(docs.size());
    for (Doc d : docs) {
      ops.add(BulkOperation.of(o -> o.create(c -> c.index(d.index()).id(d.id())
          .document(BinaryData.of(d.source(), "application/json")))));
    }
    bulkRequests.increment();
    return onContext(client.bulk(BulkRequest.of(b -> b.operations(ops))))
        .recover(e -> Future.failedFuture(classify(e)))
        .compose(resp -> outcome(p, resp));
  }

  private Future<ExportResult> outcome(Pending p, BulkResponse resp) {
    List<Doc> docs = p.docs();
    List<Doc> retry = new ArrayList<>();
    List<byte[]> dead = new ArrayList<>();
    String firstReason = null;
    List<BulkResponseItem> items = resp.items();
    for (int i = 0; i < items.size() && i < docs.size(); i++) {
      BulkResponseItem item = items.get(i);
      int status = item.status();
      if (status / 100 == 2) {
        continue;
      }
      if (status == 409) {
        alreadyIndexed.increment(); // the same content-derived _id: this document was indexed before
        continue;
      }
      if (status == 429 || status >= 500) {
        retry.add(docs.get(i));
      } else {
        ErrorCause err = item.error();
        String reason = err == null ? "status " + status : err.type() + ": " + err.reason();
        if (firstReason == null) {
          firstReason = reason;
        }
        dead.add(deadLetter(docs.get(i), status, err));
      }
    }
    Future<Void> written = dead.isEmpty() ? Future.succeededFuture() : deadLetters.append(dead);
    int deadCount = dead.size();
    String reason = firstReason;
    return written.transform(w -> {
      if (w.failed()) {
        // The dead-letter file is the last resort: if it cannot be written, keep the documents for a retry.
        return Future.failedFuture(ExportException.retryable("dead_letter_io", w.cause().getMessage(), null));
      }
      docs.clear();
      docs.addAll(retry);
      if (deadCount > 0) {
        deadLettered.increment(deadCount);
        log.log(Level.WARNING, "dead", "exporter " + config.name() + ": " + deadCount
            + " documents rejected by Elasticsearch, written to " + deadLetters.path() + " (first: " + reason + ")");
      }
      if (!retry.isEmpty()) {
        itemRetries.increment(retry.size());
        return Future.failedFuture(ExportException.retryable("es_item_" + "retry", retry.size()
            + " documents answered 429/5xx; retrying them", null));
      }
      pending.remove(p);
      return Future.succeededFuture(deadCount == 0 ? ExportResult.OK
          : new ExportResult(deadCount, "dead-lettered: " + reason));
    });
  }

  private byte[] deadLetter(Doc doc, int status, ErrorCause err) {
    return new DeadLetter(config.name(), Signal.LOGS, "rejected_by_backend",
        err == null ? "status " + status : err.reason(), err == null ? null : err.type(), status, 1)
        .withDocument(doc.index(), doc.source());
  }

  /** Whole-request failures: 429/5xx and I/O problems are retried, other statuses are not. */
  private ExportException classify(Throwable e) {
    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof ElasticsearchException ee) {
      int status = ee.status();
      if (status == 429 || status >= 500) {
        return ExportException.retryable("http_" + status, ee.getMessage(), null);
      }
      return ExportException.permanent("http_" + status, ee.getMessage());
    }
    return new ExportException("cannot reach Elasticsearch at " + config.endpoints() + ": " + cause, true, null,
        "unavailable", cause);
  }

  @Override
  public Future<Void> stop() {
    Future<Void> closed = Future.succeededFuture();
    if (client != null) {
      try {
        client._transport().close();
      } catch (java.io.IOException e) {
        LOG.log(Level.FINE, "closing the Elasticsearch client", e);
      }
    }
    return deadLetters == null ? closed : deadLetters.close();
  }
}
