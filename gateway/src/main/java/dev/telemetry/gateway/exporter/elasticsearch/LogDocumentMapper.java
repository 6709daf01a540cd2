package dev.telemetry.gateway.exporter.elasticsearch;

import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;

/** Writes one OTLP log record as an Elasticsearch JSON document in one of the supported mappings. */
interface LogDocumentMapper {

  byte[] document(ResourceLogs resource, ScopeLogs scope, LogRecord record, DataStreams.Target target);

  /** The index template body (mappings and settings) this mapper's documents need. */
  io.vertx.core.json.JsonObject mappings();
}
