"""Snakemake adapter: the branch's summary CSV (measured numbers next to the theory's)."""

from insilico.core.io import atomic_path, read_netcdf
from insilico.core.logs import job_logger
from insilico.factorisation import summary

log = job_logger(snakemake.log[0])
i = snakemake.input
rows = summary.overlap_rows(read_netcdf(i.overlap2), 0.1) + summary.overlap_rows(
    read_netcdf(i.overlap3), 0.5
)
rows += summary.amp_als_rows(read_netcdf(i.amp_als)) + summary.cnmf_rows(read_netcdf(i.cnmf))
control = read_netcdf(i.control)
rows += summary.application_rows("cp_control", control, control.attrs["planted_rank"])
rows += summary.application_rows("cp_retina", read_netcdf(i.retina_cp))
rows += summary.application_rows("cp_it", read_netcdf(i.it_cp))
cnmf_retina = read_netcdf(i.retina_cnmf)
rows.append(
    (
        "cnmf_retina_motif_type_purity",
        cnmf_retina.attrs["purity"],
        "",
        "mean over motifs of the largest type share",
    )
)
table = summary.table(rows)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
log.info("\n%s", table.to_string())
