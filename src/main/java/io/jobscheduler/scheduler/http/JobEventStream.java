package io.jobscheduler.scheduler.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.scheduler.Job;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.JobOutput;
import io.jobscheduler.scheduler.JobState;
import io.jobscheduler.scheduler.SchedulerException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /jobs/{job_id}/events}: a job as Server-Sent Events (api.md). A {@code state} event
 * on connect and on every change, an {@code output} event per chunk (base64, its {@code id} the
 * byte offset after it), a comment when nothing was sent for a keep-alive period, and at last
 * {@code end} with the final status, once the job has ended and every byte is sent.
 *
 * <p>The request's thread is the one writer. Two virtual threads feed it through a small queue:
 * one reads the worker's output stream ({@link JobOutput.Call}), one waits for news of the job's
 * status ({@link JobGateway.StateWatch}). When the stream ends, for whatever reason, both stop
 * and the worker's stream is cancelled. A queued job has no worker stream yet: the writer waits
 * for its dispatch first ({@link JobGateway#awaitOutput}), sending keep-alives.
 */
final class JobEventStream {
    /** The keep-alive period the API documents; tests pass a shorter one. */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);
    /** Chunks in flight between the output reader and the writer: a slow client holds back its reader. */
    private static final int QUEUE = 16;

    private final JobGateway gateway;
    private final Duration keepalive;

    JobEventStream(JobGateway gateway, Duration keepalive) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        if (keepalive.isNegative() || keepalive.isZero()) {
            throw new IllegalArgumentException("keepalive must be positive, was " + keepalive);
        }
        this.keepalive = keepalive;
    }

    /** What the writer is handed. */
    private sealed interface Item {
    }

    private record Output(byte[] bytes) implements Item {
    }

    private record OutputEnd() implements Item {
    }

    private record OutputFailed(RuntimeException failure) implements Item {
    }

    private record State(Job job) implements Item {
    }

    /**
     * Serves one client. Everything that can fail before the first event (a bad offset, an
     * unknown job, a worker down) is a JSON error with its status. A queued job is followed as the
     * output route follows it ({@link JobGateway#awaitOutput}): its {@code QUEUED} state first,
     * keep-alives while it waits, then its events as any placed job's once it is dispatched; or its
     * {@code end} at once if it ends before it runs (stopped, or its worker left).
     */
    void serve(String jobId, long offset, Optional<UUID> workerId, ServerResponse response) {
        Job first = gateway.query(jobId, workerId);
        BlockingQueue<Item> queue = new ArrayBlockingQueue<>(QUEUE);
        Thread reader = null;
        Thread watcher = null;
        JobOutput.Call call = null;
        try {
            JobGateway.OutputAt at = gateway.awaitOutput(jobId, workerId, Duration.ZERO);
            if (at == JobGateway.OutputAt.WORKER) {
                call = gateway.output(jobId, workerId, offset, true);
            }
            response.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            response.header(HeaderNames.CACHE_CONTROL, "no-store");
            // Deliberately not closed on failure: closing would send the final chunk and make a
            // cut-off stream look complete (api.md). An exception after the headers aborts it.
            OutputStream body = response.outputStream();
            long position = offset;
            write(body, "state", position, json(first));
            while (at == JobGateway.OutputAt.NOT_YET) {
                at = gateway.awaitOutput(jobId, workerId, keepalive);
                if (at == JobGateway.OutputAt.NOT_YET) {
                    keepAlive(body);
                }
            }
            if (at == JobGateway.OutputAt.NEVER) {
                write(body, "end", position, json(gateway.query(jobId, workerId)));
                body.close();
                return;
            }
            if (call == null) {
                call = gateway.output(jobId, workerId, offset, true);
            }
            if (first.state() == JobState.QUEUED) {
                // Dispatched since (while the client waited, or just after it asked): from here on,
                // a placed job's stream. Its end state is the end event, after its last byte.
                Job started = gateway.query(jobId, workerId);
                if (!started.done() && !sameStatus(started, first)) {
                    write(body, "state", position, json(started));
                }
                first = started;
            }
            JobOutput.Call output = call;
            Job sent = first;
            reader = Thread.ofVirtual().name("events-output-" + jobId).start(() -> read(output, queue));
            watcher = Thread.ofVirtual().name("events-state-" + jobId).start(() -> watch(jobId, workerId, sent, queue));
            while (true) {
                Item item = queue.poll(keepalive.toNanos(), TimeUnit.NANOSECONDS);
                switch (item) {
                    case null -> keepAlive(body);
                    case Output chunk -> {
                        position += chunk.bytes().length;
                        write(body, "output", position, Base64.getEncoder().encode(chunk.bytes()));
                    }
                    case State state -> write(body, "state", position, json(state.job()));
                    case OutputEnd end -> {
                        write(body, "end", position, json(gateway.ended(jobId, workerId)));
                        body.close();
                        return;
                    }
                    case OutputFailed failed -> {
                        // A job whose worker is down cannot stream: the stream ends saying so
                        // (its real state returns with the worker). Any other failure aborts it.
                        Job now = stateOr(jobId, workerId, failed.failure());
                        if (now.state() != JobState.LOST) {
                            throw failed.failure();
                        }
                        write(body, "end", position, json(now));
                        body.close();
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw SchedulerHttp.clientGone("GET events of job " + jobId, e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof RuntimeException r && !SchedulerHttp.clientLeft(r)) {
                throw r;
            }
            // The client went away; closing the call below cancels the worker's stream.
            throw SchedulerHttp.clientGone("GET events of job " + jobId, e);
        } finally {
            if (call != null) {
                call.close();
            }
            // The call is closed by now: the reader's next read fails and it ends; the watcher
            // waits on a condition and ends at the interrupt.
            stop(reader);
            stop(watcher);
        }
    }

    private static void keepAlive(OutputStream body) throws IOException {
        body.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII));
        body.flush();
    }

    /** A job's status as {@code POST /query} answers it. */
    private static byte[] json(Job job) {
        return JsonBody.bytes(JobsHttpService.JobBody.of(job));
    }

    private static void write(OutputStream body, String event, long id, byte[] data) throws IOException {
        // One line of data: JSON from JsonBody has no newline inside (its trailing one is cut), base64 has none.
        int length = data.length > 0 && data[data.length - 1] == '\n' ? data.length - 1 : data.length;
        body.write(("event: " + event + "\nid: " + id + "\ndata: ").getBytes(StandardCharsets.US_ASCII));
        body.write(data, 0, length);
        body.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        body.flush();
    }

    /** Hands every chunk of the worker's stream to the writer, then its end or its failure. */
    private static void read(JobOutput.Call call, BlockingQueue<Item> queue) {
        try {
            Item last;
            try {
                ByteArrayOutputStream chunk = new ByteArrayOutputStream(64 * 1024);
                while (call.sendNext(chunk)) {
                    queue.put(new Output(chunk.toByteArray()));
                    chunk.reset();
                }
                last = new OutputEnd();
            } catch (RuntimeException e) {
                last = new OutputFailed(e);
            }
            queue.put(last);
        } catch (IOException e) {
            throw new IllegalStateException("a byte array cannot fail to be written", e);
        } catch (InterruptedException e) {
            // The writer is done.
        }
    }

    /**
     * Hands the writer each change of the job's status while it runs. The end state is not
     * handed on: it is the {@code end} event, sent after the last byte.
     */
    private void watch(String jobId, Optional<UUID> workerId, Job first, BlockingQueue<Item> queue) {
        JobGateway.StateWatch watch = gateway.watch(jobId, workerId);
        Job sent = first;
        try {
            while (true) {
                Job now;
                try {
                    now = watch.next(keepalive);
                } catch (SchedulerException e) {
                    continue;   // the worker could not answer this time; the output stream tells of a real end
                }
                if (now.done() && now.state() != JobState.LOST) {
                    return;
                }
                if (!sameStatus(now, sent)) {
                    queue.put(new State(now));
                    sent = now;
                }
            }
        } catch (InterruptedException e) {
            // The stream has ended.
        }
    }

    private static boolean sameStatus(Job a, Job b) {
        return a.state() == b.state() && a.errorText().equals(b.errorText()) && a.startedAt().equals(b.startedAt());
    }

    private Job stateOr(String jobId, Optional<UUID> workerId, RuntimeException failure) {
        try {
            return gateway.query(jobId, workerId);
        } catch (SchedulerException e) {
            failure.addSuppressed(e);
            throw failure;
        }
    }

    private static void stop(Thread thread) {
        if (thread != null) {
            thread.interrupt();
        }
    }
}
