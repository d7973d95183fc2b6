"""Snakemake adapter: the reliability ceiling of one recording's repeated test movie."""

from insilico.core.io import write_netcdf
from insilico.core.logs import job_logger
from insilico.retina.evaluate import reliability

log = job_logger(snakemake.log[0])
ceiling = reliability(
    snakemake.input.recording,
    snakemake.params.cells,
    snakemake.params.n_splits,
    snakemake.params.seed,
    first_bin=snakemake.params.first_bin,
    test_set=snakemake.params.test_set,
)
log.info(
    "mean ceiling %.3f (%s test movie)", float(ceiling["ceiling"].mean()), ceiling.attrs["test_set"]
)
write_netcdf(ceiling, snakemake.output[0])
