{#- FFT inpatient by trust, renamed and typed (macros/stage_fft.sql). -#}
{{ stage_fft('fft_inpatient') }}
