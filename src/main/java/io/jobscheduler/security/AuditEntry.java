package io.jobscheduler.security;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * One line of the audit log, before its time and outcome are added: what was done ({@code event}),
 * by whom ({@code who}: a token's name, a certificate's {@code role/name}, or {@code anonymous}),
 * from where (the peer's address), through which method and route, on which job and worker, and
 * what a start ran. Only the <em>names</em> of a start's environment are kept, never a value; a
 * token is never part of an entry. Strings are cut to {@value #MAX_CHARS} characters each.
 */
public record AuditEntry(String event, String who, String from, String method, String route, String jobId,
                         String workerId, String address, String command, String path, List<String> args,
                         List<String> env) {
    public static final int MAX_CHARS = 256;

    public AuditEntry {
        Objects.requireNonNull(event, "event");
        who = cut(Objects.requireNonNull(who, "who"));
        from = cut(from);
        method = cut(method);
        route = cut(route);
        jobId = cut(jobId);
        workerId = cut(workerId);
        address = cut(address);
        command = cut(command);
        path = cut(path);
        args = args == null ? null : args.stream().map(AuditEntry::cut).toList();
        env = env == null ? null : env.stream().map(AuditEntry::cut).sorted().toList();
    }

    /** An entry of {@code event} by {@code who} from {@code from} through {@code method} {@code route}. */
    public static AuditEntry of(String event, String who, String from, String method, String route) {
        return new AuditEntry(event, who, from, method, route, null, null, null, null, null, null, null);
    }

    public AuditEntry job(String id) {
        return new AuditEntry(event, who, from, method, route, id, workerId, address, command, path, args, env);
    }

    public AuditEntry worker(String id) {
        return new AuditEntry(event, who, from, method, route, jobId, id, address, command, path, args, env);
    }

    public AuditEntry address(String registered) {
        return new AuditEntry(event, who, from, method, route, jobId, workerId, registered, command, path, args, env);
    }

    /**
     * What a start runs ({@code command path args…}); {@code envNames} are the names of its
     * environment variables, never their values.
     */
    public AuditEntry command(String command, String path, List<String> args, Collection<String> envNames) {
        return new AuditEntry(event, who, from, method, route, jobId, workerId, address, command, path,
                List.copyOf(args), List.copyOf(envNames));
    }

    private static String cut(String text) {
        if (text == null || text.length() <= MAX_CHARS) {
            return text;
        }
        // Never split a surrogate pair: the line must stay valid UTF-8.
        int end = Character.isHighSurrogate(text.charAt(MAX_CHARS - 1)) ? MAX_CHARS - 1 : MAX_CHARS;
        return text.substring(0, end);
    }
}
