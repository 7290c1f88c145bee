// Running surrogate-train from the trainer's command tests: a scratch folder per
// test file, the command started with stdout and stderr going to a log (so that a
// test can kill it), its exit status, and the log's text.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cs::test {

// `name` inside build/test-scratch/`folder`, which is created.
inline std::string scratch_path(const std::string& folder, const std::string& name) {
    const std::filesystem::path path =
        std::filesystem::path(CS_BINARY_DIR) / "test-scratch" / folder;
    std::filesystem::create_directories(path);
    return (path / name).string();
}

// Starts surrogate-train with `arguments`, stdout and stderr to `log`; its process id.
inline pid_t start_command(const std::vector<std::string>& arguments, const std::string& log) {
    std::vector<std::string> all = {SURROGATE_TRAIN};
    all.insert(all.end(), arguments.begin(), arguments.end());
    const pid_t pid = fork();
    if (pid == 0) {
        const int file = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(file, 1);
        dup2(file, 2);
        std::vector<char*> argv;
        for (std::string& argument : all) {
            argv.push_back(argument.data());
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

// The exit status of a started command, -1 when a signal ended it.
inline int finish_command(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline int run_command(const std::vector<std::string>& arguments, const std::string& log) {
    return finish_command(start_command(arguments, log));
}

inline std::string read_text(const std::string& path) {
    std::ifstream stream(path);
    std::stringstream text;
    text << stream.rdbuf();
    return text.str();
}

}  // namespace cs::test
