package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;

/**
 * One accepted export request waiting in exporter queues. Immutable and shared by every queue of a fan-out; the
 * protobuf message is never copied. {@code bytes} is its encoded size, the unit of the queues' byte bounds.
 */
record QueuedRequest(Message request, int items, int bytes, long receivedNanos) {
}
