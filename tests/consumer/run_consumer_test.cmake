# Installs the build tree into a scratch prefix, then configures, builds and runs the consumer
# projects: tests/consumer_core with LibTorch, FAISS and OpenMP made unfindable, and (in builds
# with LibTorch) tests/consumer with everything.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer_core -B ${WORK_DIR}/build_core
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON -DCMAKE_DISABLE_FIND_PACKAGE_faiss=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_Caffe2=ON)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build_core)
run(${WORK_DIR}/build_core/core_consumer)
if(WITH_TORCH)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
      -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  run(${WORK_DIR}/build/consumer)
endif()
