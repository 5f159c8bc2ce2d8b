package io.jobscheduler.worker.job;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Exactly what is spawned: the file to exec, its argv (argv[0] included), its whole environment
 * ({@code NAME=value}) and its current folder.
 *
 * <p>A pre-exec step ({@link #withStepInFront}) is a program that does one thing and then execs
 * the rest of its arguments, so the job's first instruction already runs changed: util-linux
 * {@code setpriv} for another user. Steps nest, the last added runs first: a step that must run
 * as root (joining a cgroup: docs/helidon-notes.md, "cgroups on this machine kind") is added after
 * the run-as step, so it runs before it.
 */
record Launch(String executable, List<String> argv, List<String> env, Path cwd) {

    Launch {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must hold at least argv[0]");
        }
    }

    /** This launch run through {@code step}: step[0] is exec'd with the step's words, then this launch's executable and arguments. */
    Launch withStepInFront(List<String> step) {
        List<String> words = new ArrayList<>(step);
        words.add(executable);
        words.addAll(argv.subList(1, argv.size()));
        return new Launch(step.getFirst(), words, env, cwd);
    }
}
