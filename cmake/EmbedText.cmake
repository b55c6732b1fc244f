# moeprof_embed_text(<target> <input file> <C++ symbol>)
# Turns a text file (e.g. schemas/trace.sql) into a generated C++ source that defines
# `moeprof::schemas::<symbol>` (a std::string_view), so the binaries carry the one source of truth.
function(moeprof_embed_text target input symbol)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${symbol}.cpp")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${out} -DSYMBOL=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedTextScript.cmake"
    DEPENDS "${input}" "${PROJECT_SOURCE_DIR}/cmake/EmbedTextScript.cmake"
    COMMENT "Embedding ${input}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
